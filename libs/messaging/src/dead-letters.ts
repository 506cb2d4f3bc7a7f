import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, MsgHdrs, Subscription } from '@nats-io/nats-core';
import { deadLetterSubject, DLQ_STREAM } from '@lib/contracts';
import { DependencyGate } from './dependency-gate';
import { errorMessage } from './errors';
import { messagingMetrics } from './messaging.metrics';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsClient } from './nats.client';

/** The body stored in the DLQ stream: the original message and why it could not be handled. */
export interface DeadLetter {
  stream: string;
  subject: string;
  sequence: number;
  consumer: string;
  deliveries: number;
  error: string;
  deadLetteredAt: string;
  headers: Record<string, string>;
  /** The original body, byte for byte as UTF-8 text, so it can be put back on its subject. */
  body: string;
}

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

const MAX_DELIVERIES_ADVISORY = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES';

/** How often a DLQ that could not take a dead letter is asked whether it is back. */
const DLQ_PROBE_MS = 1000;

@Injectable()
export class DeadLetters implements OnApplicationShutdown {
  private readonly logger = new Logger(DeadLetters.name);
  private subscription?: Subscription;
  /**
   * Closed while the DLQ stream cannot take dead letters: the messages to dead-letter are held
   * meanwhile (never acked, never lost). It pauses no consumer: other messages need no DLQ.
   */
  readonly gate: DependencyGate;

  constructor(
    private readonly nats: NatsClient,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    this.gate = new DependencyGate('dlq', {
      probe: () => this.nats.jsm.streams.info(DLQ_STREAM),
      probeEveryMs: DLQ_PROBE_MS,
    });
  }

  /**
   * Stores a message the consumer gave up on. Throws if the DLQ could not take it, and closes the
   * gate until it can.
   */
  async store(message: JsMsg, stream: string, consumer: string, error: string): Promise<void> {
    await this.publishOrClose({
      stream,
      subject: message.subject,
      sequence: message.seq,
      consumer,
      deliveries: message.info.deliveryCount,
      error,
      deadLetteredAt: new Date().toISOString(),
      headers: headersToRecord(message.headers),
      body: message.string(),
    });
  }

  /**
   * A message whose handler never answered (the process died, the ack wait ran out) on its last
   * delivery is only reported by the server's advisory: fetch it from the stream and store it.
   * One instance per service takes each advisory (queue group).
   */
  watchMaxDeliveries(): void {
    const prefix = `${this.options.service}__`;
    this.subscription = this.nats.nc.subscribe(`${MAX_DELIVERIES_ADVISORY}.*.*`, {
      queue: `${this.options.service}-dlq`,
      callback: (err, msg) => {
        if (err) return;
        const advisory = msg.json<MaxDeliveriesAdvisory>();
        if (!advisory.consumer.startsWith(prefix)) return;
        this.fromAdvisory(advisory).catch((error: unknown) =>
          this.logger.error({ msg: 'could not dead-letter after max deliveries', advisory, error }),
        );
      },
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    this.gate.stop();
  }

  /**
   * The server has given up on the message, which stays in its stream (limits retention): only
   * this process knows it is to be dead-lettered, so it keeps trying while the DLQ is away.
   */
  private async fromAdvisory(advisory: MaxDeliveriesAdvisory): Promise<void> {
    const original = await this.nats.jsm.streams.getMessage(advisory.stream, {
      seq: advisory.stream_seq,
    });
    if (!original) return;
    const letter: DeadLetter = {
      stream: advisory.stream,
      subject: original.subject,
      sequence: advisory.stream_seq,
      consumer: advisory.consumer,
      deliveries: advisory.deliveries,
      error: 'max deliveries reached without a handler verdict (crash or ack wait expired)',
      deadLetteredAt: new Date().toISOString(),
      headers: headersToRecord(original.header),
      body: original.string(),
    };
    for (;;) {
      await this.gate.whenOpen();
      try {
        return await this.publishOrClose(letter);
      } catch {
        // Closed the gate: tried again once the DLQ answers.
      }
    }
  }

  private async publishOrClose(letter: DeadLetter): Promise<void> {
    try {
      await this.publish(letter);
    } catch (error) {
      this.gate.close(errorMessage(error));
      throw error;
    }
  }

  private async publish(letter: DeadLetter): Promise<void> {
    const h = natsHeaders();
    h.set('Dlq-Original-Subject', letter.subject);
    // One dead letter per stream message and consumer, even when the transport and the advisory both report it.
    await this.nats.js.publish(
      deadLetterSubject(letter.stream, letter.consumer),
      JSON.stringify(letter),
      {
        msgID: `dlq:${letter.stream}:${letter.sequence}:${letter.consumer}`,
        headers: h,
      },
    );
    messagingMetrics.deadLetters.inc({ stream: letter.stream, consumer: letter.consumer });
    this.logger.warn({
      msg: 'message dead-lettered',
      stream: letter.stream,
      subject: letter.subject,
      sequence: letter.sequence,
      consumer: letter.consumer,
      deliveries: letter.deliveries,
      error: letter.error,
    });
  }
}

function headersToRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, values] of headers ?? []) record[key] = values.join(',');
  return record;
}
