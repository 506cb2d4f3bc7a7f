import { Inject, Injectable } from '@nestjs/common';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { Counter, Histogram } from 'prom-client';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  EventDefinition,
  EventEnvelope,
  eventForSubject,
  InvalidEventError,
  parseEvent,
  SUBSCRIPTIONS,
} from '@lib/contracts';
import { inSpan, SpanStatusCode, tracingOn, withLogContext } from '@lib/observability';
import { DeadLetters } from './dead-letters';
import { errorMessage, PermanentEventError, RejectedEventError } from './errors';
import { watchConsumer } from './consumer-metrics';
import { JetStreamContext } from './jetstream.context';
import { processSpan } from './message-spans';
import { CONSUME_OUTCOMES, ConsumeOutcome, messagingMetrics } from './messaging.metrics';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsClient } from './nats.client';
import { ensureConsumer } from './stream-setup';
import { retryDelayMs } from './retry-delay';

interface Route {
  definition: EventDefinition;
  handler: MessageHandler;
  stream: string;
  consumer: string;
  handlerSeconds: Histogram.Internal<'subject'>;
  consumed: Record<ConsumeOutcome, Counter.Internal>;
}

/**
 * A consumer's leader holds the open pull requests in memory only: when it dies, or leadership
 * moves, its successor knows of none and delivers nothing until the client notices two missed
 * heartbeats and pulls again. nats.js's defaults (30 s pulls, heartbeat every 15 s) stall a
 * consumer for 30 s after every election on a cluster, past the saga's stock deadline; these
 * notice it within about 2 s, for one heartbeat a second per idle consumer.
 */
export const PULL_TIMING = { expires: 5_000, idle_heartbeat: 1_000 };

/**
 * Nest microservice transport on JetStream pull consumers. Each `@EventPattern(subject)` gets a
 * durable consumer; a message is acked only after its handler's promise resolves, retried with
 * back-off on transient errors, and terminated into the DLQ when it is invalid, permanently
 * failing, or out of deliveries.
 */
@Injectable()
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private readonly subscriptions: ConsumerMessages[] = [];
  /** Stop reporting each consumer's state in the metrics. */
  private readonly unwatch: (() => void)[] = [];
  private readonly acks = new AckBatch();
  /** Messages being handled: kept alive at the server (it must not redeliver them) and awaited at close. */
  private readonly inFlight = new Set<JsMsg>();
  private drained?: () => void;
  private keepAlive?: NodeJS.Timeout;
  /**
   * Shared by every consumer of the app: a handler that holds a database connection per message
   * needs a limit below the pool size, to leave connections for HTTP requests. Batched handlers
   * (Batcher) hold one per batch, so their apps allow more.
   */
  private readonly slots: Slots;

  constructor(
    private readonly nats: NatsClient,
    private readonly deadLetters: DeadLetters,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    super();
    this.slots = new Slots(options.concurrency);
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  /** Stops pulling, lets the messages in flight finish, then sends their acks. */
  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((messages) => messages.close()));
    this.subscriptions.length = 0;
    for (const unwatch of this.unwatch.splice(0)) unwatch();
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    clearInterval(this.keepAlive);
    this.acks.flush();
  }

  on(): void {
    throw new Error('JetStreamTransport does not emit events; watch NatsClient instead');
  }

  unwrap<T>(): T {
    return this.nats.nc as T;
  }

  private async start(): Promise<void> {
    await this.nats.connect();
    this.deadLetters.watchMaxDeliveries();
    // A slow handler (a Stripe call, a retried transaction) must not be redelivered mid-flight.
    this.keepAlive = setInterval(() => {
      for (const message of this.inFlight) message.working();
    }, this.options.ackWaitMs / 2);
    for (const [subject, handler] of this.messageHandlers) {
      const route = await this.prepareRoute(subject, handler);
      const consumer = await this.nats.js.consumers.get(route.stream, route.consumer);
      // A buffer beyond what is in flight keeps handlers busy while the next pull is under way.
      const messages = await consumer.consume({
        max_messages: this.options.concurrency * 4,
        ...PULL_TIMING,
      });
      this.subscriptions.push(messages);
      const { stream, consumer: durable } = route;
      const info = () => this.nats.jsm.consumers.info(stream, durable);
      this.unwatch.push(watchConsumer({ stream, consumer: durable, info }));
      void this.consumeAll(messages, route);
      this.logger.log({ msg: 'consuming', subject, consumer: route.consumer });
    }
  }

  private async prepareRoute(subject: string, handler: MessageHandler): Promise<Route> {
    const definition = eventForSubject(subject);
    if (!definition) {
      throw new Error(`@EventPattern('${subject}') names no event in the contracts catalogue`);
    }
    const declared = SUBSCRIPTIONS[this.options.service];
    if (declared && !declared.includes(subject)) {
      throw new Error(
        `${this.options.service} handles ${subject}, but libs/contracts/src/subscriptions.ts does not declare it`,
      );
    }
    const { stream, durable } = await ensureConsumer(
      this.nats.jsm,
      this.options.service,
      subject,
      this.options,
    );
    // Labelled children are looked up once per route instead of once per message.
    const handlerSeconds = messagingMetrics.handlerSeconds.labels({ subject });
    const consumed = Object.fromEntries(
      CONSUME_OUTCOMES.map((outcome) => [
        outcome,
        messagingMetrics.consumed.labels({ subject, outcome }),
      ]),
    ) as Route['consumed'];
    return { definition, handler, stream, consumer: durable, handlerSeconds, consumed };
  }

  /** Handles messages within the app's `concurrency`; the iterator stops when the transport closes. */
  private async consumeAll(messages: ConsumerMessages, route: Route): Promise<void> {
    for await (const message of messages) {
      if (!this.slots.tryTake()) await this.slots.take();
      this.inFlight.add(message);
      void this.handle(message, route).finally(() => {
        this.slots.give();
        this.inFlight.delete(message);
        if (this.inFlight.size === 0) this.drained?.();
      });
    }
  }

  /** Never rejects: every path ends in ack, nak or term. */
  private async handle(message: JsMsg, route: Route): Promise<void> {
    const stopTimer = route.handlerSeconds.startTimer();
    const outcome = await this.dispatch(message, route);
    stopTimer();
    route.consumed[outcome].inc();
  }

  private dispatch(message: JsMsg, route: Route): Promise<ConsumeOutcome> {
    let event: EventEnvelope;
    try {
      event = parseEvent(route.definition, message.json());
    } catch (error) {
      const reason = error instanceof InvalidEventError ? error.message : 'body is not JSON';
      return this.giveUp(message, route, `invalid event: ${reason}`);
    }
    const logContext = {
      correlationId: event.correlationId,
      eventId: event.eventId,
      sagaId: event.sagaId,
    };
    if (tracingOn()) {
      return withLogContext(logContext, () => this.invokeTraced(message, route, event));
    }
    return withLogContext(logContext, () => this.invoke(message, route, event));
  }

  /** `invoke` in a CONSUMER span continuing the publisher's trace (W3C headers). */
  private invokeTraced(message: JsMsg, route: Route, event: EventEnvelope) {
    const delivery = {
      subject: message.subject,
      headers: message.headers,
      deliveryCount: message.info.deliveryCount,
      stream: route.stream,
    };
    const options = processSpan(delivery, route.consumer, event.eventId);
    return inSpan(options.name, options, async (span) => {
      const outcome = await this.invoke(message, route, event);
      span?.setAttribute('messaging.nats.outcome', outcome);
      if (outcome === 'nak' || outcome === 'term') span?.setStatus({ code: SpanStatusCode.ERROR });
      return outcome;
    });
  }

  private async invoke(
    message: JsMsg,
    route: Route,
    event: EventEnvelope,
  ): Promise<ConsumeOutcome> {
    const context = new JetStreamContext([
      { message, stream: route.stream, consumer: route.consumer },
    ]);
    try {
      // Nest's handler proxy resolves to the handler's value, or an Observable if it returned one.
      const result: unknown = await route.handler(event, context);
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      this.acks.add(message);
      return context.duplicate ? 'duplicate' : 'ack';
    } catch (error) {
      const lastDelivery = message.info.deliveryCount >= this.options.maxDeliver;
      if (error instanceof RejectedEventError) {
        messagingMetrics.repliesRejected.inc({ reason: error.reason });
        this.logger.error({
          msg: 'event rejected: it does not match our record',
          subject: message.subject,
          reason: error.reason,
          ...error.context,
          error: error.message,
        });
      }
      if (error instanceof PermanentEventError || lastDelivery) {
        return this.giveUp(message, route, errorMessage(error));
      }
      const delay = retryDelayMs(message.info.deliveryCount, this.options);
      this.logger.warn({
        msg: 'handler failed, retrying',
        subject: message.subject,
        delay,
        error: errorMessage(error),
      });
      message.nak(delay);
      return 'nak';
    }
  }

  /** Dead-letter, then terminate. If the DLQ cannot take it, retry instead: nothing is dropped. */
  private async giveUp(message: JsMsg, route: Route, reason: string): Promise<ConsumeOutcome> {
    try {
      await this.deadLetters.store(message, route.stream, route.consumer, reason);
    } catch (error) {
      this.logger.error({
        msg: 'DLQ unavailable, retrying the message',
        error: errorMessage(error),
      });
      message.nak(retryDelayMs(message.info.deliveryCount, this.options));
      return 'nak';
    }
    // The reason is kept in the dead letter: servers before 2.10 take only a bare +TERM and
    // redeliver a message terminated with a reason until max_deliver.
    if (termTakesReason(this.nats.nc.info?.version)) message.term(reason.slice(0, 200));
    else message.term();
    return 'term';
  }
}

/** Whether a nats-server of this version honours `+TERM <reason>` (2.10 and later). */
export function termTakesReason(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

/**
 * nats.js writes to the socket once per microtask burst; handlers finish in separate bursts, so
 * acking at once costs one socket write per message. Acks of one event-loop turn go out together.
 */
class AckBatch {
  private pending: JsMsg[] = [];

  add(message: JsMsg): void {
    if (this.pending.push(message) === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    const batch = this.pending;
    this.pending = [];
    for (const message of batch) message.ack();
  }
}

/** A counting semaphore: `take` waits while every slot is busy. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** Waits for a slot that `give` hands over directly. */
  take(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
