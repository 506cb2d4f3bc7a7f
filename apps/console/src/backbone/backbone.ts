import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { jetstream, JetStreamClient, jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { CONSOLE_SERVICE, inboxPrefixOf } from '@lib/contracts';
import { natsConnectOptions } from '@lib/messaging';
import { natsSettingsOf } from '@lib/platform';
import { ConsoleConfig } from '../config';
import { CONSOLE_CONFIG } from '../console-config.token';

const JETSTREAM_TIMEOUT_MS = 1000;

/**
 * The console's NATS connection, as its own user (infra/nats: it reads streams and the DLQ and
 * replays dead letters, nothing else). Unlike an app's, it applies no stream definitions: the
 * console has no streams and may not change them.
 */
@Injectable()
export class Backbone implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(Backbone.name);
  private connection?: NatsConnection;
  private client?: JetStreamClient;
  private manager?: JetStreamManager;

  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  /** Boot waits until NATS answers (retrying forever), as the apps do. */
  async onModuleInit(): Promise<void> {
    const connection = await connect({
      ...natsConnectOptions(natsSettingsOf(this.config)),
      inboxPrefix: inboxPrefixOf(CONSOLE_SERVICE),
      name: CONSOLE_SERVICE,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
    });
    this.connection = connection;
    this.client = jetstream(connection);
    this.manager = await jetstreamManager(connection);
    this.logger.log({ msg: 'connected to NATS', server: connection.getServer() });
  }

  get js(): JetStreamClient {
    if (!this.client) throw new Error('NATS is not connected yet');
    return this.client;
  }

  get jsm(): JetStreamManager {
    if (!this.manager) throw new Error('NATS is not connected yet');
    return this.manager;
  }

  /** Connected, and JetStream answers an account-info request in time. */
  async ready(): Promise<boolean> {
    if (!this.connection || this.connection.isClosed()) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), JETSTREAM_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.jsm.getAccountInfo().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.connection && !this.connection.isClosed()) await this.connection.drain();
  }
}
