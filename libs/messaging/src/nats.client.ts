import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { jetstream, JetStreamClient, jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { inboxPrefixOf } from '@lib/contracts';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { JetStreamPublisher } from './jetstream-publisher';
import { natsConnectOptions } from './nats-connection';
import { ensureStreams } from './stream-setup';

/** The app's one NATS connection: reconnects forever and knows whether it is up right now. */
@Injectable()
export class NatsClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NatsClient.name);
  private connecting?: Promise<void>;
  private connection?: NatsConnection;
  private connected = false;
  private client?: JetStreamClient;
  private manager?: JetStreamManager;
  private publisher?: JetStreamPublisher;

  constructor(@Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions) {}

  /** Boot waits here until NATS answers (it retries forever), then applies the stream definitions. */
  onModuleInit(): Promise<void> {
    return this.connect();
  }

  connect(): Promise<void> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<void> {
    const connection = await connect({
      ...natsConnectOptions({ ...this.options.natsIdentity, url: this.options.natsUrl }),
      inboxPrefix: inboxPrefixOf(this.options.service),
      name: this.options.service,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      // A stack trace captured for every request and publish costs more than it tells here.
      noAsyncTraces: true,
    });
    this.connection = connection;
    this.connected = true;
    this.client = jetstream(connection);
    this.publisher = new JetStreamPublisher(connection, inboxPrefixOf(this.options.service));
    this.manager = await jetstreamManager(connection);
    void this.watchStatus(connection);
    await ensureStreams(this.manager, this.options.streamReplicas, this.options.service);
    this.logger.log({ msg: 'connected to NATS', server: connection.getServer() });
  }

  get nc(): NatsConnection {
    if (!this.connection) throw new Error('NATS is not connected yet');
    return this.connection;
  }

  get js(): JetStreamClient {
    if (!this.client) throw new Error('NATS is not connected yet');
    return this.client;
  }

  /** The outbox's way to JetStream: acknowledged publishes without a request each. */
  get jetStreamPublisher(): JetStreamPublisher {
    if (!this.publisher) throw new Error('NATS is not connected yet');
    return this.publisher;
  }

  get jsm(): JetStreamManager {
    if (!this.manager) throw new Error('NATS is not connected yet');
    return this.manager;
  }

  get isConnected(): boolean {
    return this.connected && !this.connection?.isClosed();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection || this.connection.isClosed()) return;
    this.publisher?.close();
    await this.connection.drain();
  }

  private async watchStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn({ msg: 'NATS disconnected', server: status.server });
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.log({ msg: 'NATS reconnected', server: status.server });
      }
    }
  }
}
