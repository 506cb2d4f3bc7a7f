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
  isCompensation,
  parseEvent,
  SUBSCRIPTIONS,
} from '@lib/contracts';
import { inSpan, SpanStatusCode, tracingOn, withLogContext } from '@lib/observability';
import { DeadLetters } from './dead-letters';
import { DependencyGates } from './dependency-gate';
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
  /** A compensation (`COMPENSATIONS`): retried until done, never dead-lettered for a transient error. */
  compensation: boolean;
  handlerSeconds: Histogram.Internal<'subject'>;
  consumed: Record<ConsumeOutcome, Counter.Internal>;
}

/**
 * An attempt that could not run, or finish, because a dependency is down: the message is held
 * (kept from redelivery, its delivery not spent) until `until` resolves, then tried again; with
 * `deadLetter`, only its dead-lettering is (the DLQ was the one down).
 */
class Held {
  constructor(
    readonly until: () => Promise<void>,
    readonly deadLetter?: string,
  ) {}
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
 * Messages a consumer keeps asked for (`max_messages`; nats.js asks for more each time a quarter of
 * them has arrived). At least 64, so that a low concurrency still pulls in batches rather than a
 * message per round trip; else three slots' worth, so that with the messages in the slots and
 * those waiting for one (`consumeAll`) an instance takes at most 5 × concurrency per consumer, as
 * before. That is the trade-off, fairness between instances: what one has taken waits for its
 * handlers while another may be idle. And what is still in nats.js's buffer is not kept alive:
 * handlers slower on average than ack wait × concurrency / this would see it redelivered.
 */
export function pullBatch(concurrency: number): number {
  return Math.max(3 * concurrency, 64);
}

/**
 * Nest microservice transport on JetStream pull consumers. Each `@EventPattern(subject)` gets a
 * durable consumer; a message is acked only after its handler's promise resolves, retried with
 * back-off on transient errors, and terminated into the DLQ when it is invalid, permanently
 * failing, or out of deliveries (a compensation never runs out: it is retried until done). While a
 * dependency is down (`DependencyGates`), messages are held instead of handled, and a handler that
 * failed because of the outage is tried again once it is over: an outage spends no delivery.
 */
@Injectable()
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private readonly subscriptions: ConsumerMessages[] = [];
  /** Stop reporting each consumer's state in the metrics. */
  private readonly unwatch: (() => void)[] = [];
  private readonly acks = new AckBatch();
  /**
   * Messages read, being handled or waiting (for a slot, or held): kept alive at the server (it must
   * not redeliver them) and awaited at close.
   */
  private readonly inFlight = new Set<JsMsg>();
  private drained?: () => void;
  private keepAlive?: NodeJS.Timeout;
  /** Resolves when the transport closes: held messages are let go then. */
  private readonly closing: Promise<void>;
  private closed = false;
  private close$!: () => void;
  private readonly pendingCompensations: PendingCompensations;
  private unwatchGates?: () => void;
  /**
   * Shared by every consumer of the app: a handler that holds a database connection per message
   * needs a limit below the pool size, to leave connections for HTTP requests. Batched handlers
   * (Batcher) hold one per batch, so their apps allow more.
   */
  private readonly slots: Slots;

  constructor(
    private readonly nats: NatsClient,
    private readonly deadLetters: DeadLetters,
    private readonly gates: DependencyGates,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    super();
    this.slots = new Slots(options.concurrency);
    this.closing = new Promise((resolve) => (this.close$ = resolve));
    // A failing compensation comes back within the longest retry delay; one that has not for longer
    // than that (and an ack wait) was taken over by another instance.
    this.pendingCompensations = new PendingCompensations(
      2 * options.retryMaxMs + options.ackWaitMs,
    );
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  /**
   * Stops pulling, lets the messages in flight finish, then sends their acks. Messages held for a
   * dependency are handed back to the server (nak) for another instance, or the next boot.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.close$();
    this.unwatchGates?.();
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
      this.pendingCompensations.report();
    }, this.options.ackWaitMs / 2);
    this.unwatchGates = this.gates.watch(() => this.reportPaused());
    for (const [subject, handler] of this.messageHandlers) {
      const route = await this.prepareRoute(subject, handler);
      const consumer = await this.nats.js.consumers.get(route.stream, route.consumer);
      const messages = await consumer.consume({
        max_messages: pullBatch(this.options.concurrency),
        ...PULL_TIMING,
      });
      this.subscriptions.push(messages);
      const { stream, consumer: durable } = route;
      const info = () => this.nats.jsm.consumers.info(stream, durable);
      this.unwatch.push(watchConsumer({ stream, consumer: durable, info }));
      if (route.compensation) this.pendingCompensations.track(route.consumer);
      void this.consumeAll(messages, route);
      this.logger.log({ msg: 'consuming', subject, consumer: route.consumer });
    }
    this.reportPaused();
  }

  private reportPaused(): void {
    messagingMetrics.consumersPaused.set(this.gates.open ? 0 : this.subscriptions.length);
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
    const compensation = isCompensation(subject);
    return {
      definition,
      handler,
      stream,
      consumer: durable,
      compensation,
      handlerSeconds,
      consumed,
    };
  }

  /**
   * Reads each message as it arrives and hands it to `handle`, where it waits for a slot: a message
   * read is in flight, so kept alive however long it waits. Reading stops while as many messages
   * wait for a slot as there are slots (over all consumers), so pulls still follow the handlers.
   * While a dependency is down a message is held at once, without waiting: left in the client's
   * buffer instead, it would come back after the ack wait and spend a delivery. The server stops
   * delivering at the consumer's max_ack_pending.
   */
  private async consumeAll(messages: ConsumerMessages, route: Route): Promise<void> {
    for await (const message of messages) {
      void this.handle(message, route);
      if (this.slots.queueFull) await this.slots.roomInQueue();
      // Messages read after close would not be awaited: the server redelivers them instead.
      if (this.closed) break;
    }
  }

  /**
   * Never rejects: every path ends in ack, nak or term. An attempt runs in a slot, and only while
   * every dependency is up; a held message waits without one.
   */
  private async handle(message: JsMsg, route: Route): Promise<void> {
    // In flight (kept alive, awaited at close) from its read to its ack, nak or term.
    this.inFlight.add(message);
    try {
      let waitFor: (() => Promise<void>) | undefined;
      let deadLetter: string | undefined;
      for (;;) {
        if (waitFor || !this.gates.open) {
          if (!(await this.hold(message, waitFor ?? (() => this.gates.opened())))) {
            message.nak(retryDelayMs(message.info.deliveryCount, this.options));
            route.consumed.nak.inc();
            return;
          }
          waitFor = undefined;
        }
        if (!this.slots.tryTake()) await this.slots.take();
        // A dependency may have gone down while this message waited for its slot.
        if (!this.gates.open) {
          this.slots.give();
          continue;
        }
        // performance.now and the child's observe: prom-client's timer allocates three objects.
        const started = performance.now();
        const verdict = deadLetter
          ? await this.giveUp(message, route, deadLetter)
          : await this.dispatch(message, route);
        route.handlerSeconds.observe((performance.now() - started) / 1000);
        this.slots.give();
        if (verdict instanceof Held) {
          route.consumed.held.inc();
          ({ until: waitFor, deadLetter } = verdict);
          continue;
        }
        // Only compensations are tracked; reading `seq` parses the reply subject.
        if (route.compensation && verdict !== 'nak') {
          this.pendingCompensations.done(route.consumer, message.seq);
        }
        route.consumed[verdict].inc();
        return;
      }
    } finally {
      this.inFlight.delete(message);
      if (this.inFlight.size === 0) this.drained?.();
    }
  }

  /** Keeps the message from redelivery until `until` resolves; false if the transport closed first. */
  private async hold(message: JsMsg, until: () => Promise<void>): Promise<boolean> {
    messagingMetrics.eventsHeld.inc();
    try {
      const closed = await Promise.race([until().then(() => false), this.closing.then(() => true)]);
      return !closed;
    } finally {
      messagingMetrics.eventsHeld.dec();
    }
  }

  private dispatch(message: JsMsg, route: Route): Promise<ConsumeOutcome | Held> {
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
  private invokeTraced(
    message: JsMsg,
    route: Route,
    event: EventEnvelope,
  ): Promise<ConsumeOutcome | Held> {
    const delivery = {
      subject: message.subject,
      headers: message.headers,
      deliveryCount: message.info.deliveryCount,
      stream: route.stream,
    };
    const options = processSpan(delivery, route.consumer, event.eventId);
    return inSpan(options.name, options, async (span) => {
      const outcome = await this.invoke(message, route, event);
      const name = outcome instanceof Held ? 'held' : outcome;
      span?.setAttribute('messaging.nats.outcome', name);
      if (name !== 'ack' && name !== 'duplicate') span?.setStatus({ code: SpanStatusCode.ERROR });
      return outcome;
    });
  }

  private async invoke(
    message: JsMsg,
    route: Route,
    event: EventEnvelope,
  ): Promise<ConsumeOutcome | Held> {
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
      const deliveries = message.info.deliveryCount;
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
      if (error instanceof PermanentEventError) {
        return this.giveUp(message, route, errorMessage(error));
      }
      // The dependency's outage, not the message's fault: tried again once it is over.
      if (this.gates.failedWith(error)) {
        this.logger.warn({
          msg: 'handler failed while a dependency is down, holding the message',
          subject: message.subject,
          down: this.gates.closed,
          error: errorMessage(error),
        });
        return new Held(() => this.gates.opened());
      }
      if (deliveries >= this.options.maxDeliver) {
        if (!route.compensation) return this.giveUp(message, route, errorMessage(error));
        this.pendingCompensations.failed(route.consumer, message.seq);
      }
      const delay = retryDelayMs(deliveries, this.options);
      const overdue = route.compensation && deliveries >= this.options.maxDeliver;
      this.logger[overdue ? 'error' : 'warn']({
        msg: overdue
          ? 'compensation still failing, retrying until it is done'
          : 'handler failed, retrying',
        subject: message.subject,
        deliveries,
        delay,
        error: errorMessage(error),
      });
      message.nak(delay);
      return 'nak';
    }
  }

  /**
   * Dead-letter, then terminate. If the DLQ cannot take it, the message is held until it can:
   * never acked, never dropped, no delivery spent.
   */
  private async giveUp(
    message: JsMsg,
    route: Route,
    reason: string,
  ): Promise<ConsumeOutcome | Held> {
    try {
      await this.deadLetters.store(message, route.stream, route.consumer, reason);
    } catch (error) {
      this.logger.error({
        msg: 'DLQ unavailable, holding the message until it is back',
        subject: message.subject,
        error: errorMessage(error),
      });
      return new Held(() => this.deadLetters.gate.whenOpen(), reason);
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
 * Compensation messages that failed past NATS_MAX_DELIVER deliveries (where another message would
 * have been dead-lettered) and are not done yet: the `compensations_pending` gauge, per consumer. A
 * message that has not come back for `forgetAfterMs` was done by another instance.
 */
class PendingCompensations {
  private readonly failing = new Map<string, { consumer: string; at: number }>();
  private readonly consumers = new Set<string>();

  constructor(private readonly forgetAfterMs: number) {}

  /** Reports this compensation consumer, at 0 until one of its messages is overdue. */
  track(consumer: string): void {
    this.consumers.add(consumer);
    this.report();
  }

  failed(consumer: string, sequence: number): void {
    this.failing.set(`${consumer}/${sequence}`, { consumer, at: Date.now() });
    this.report();
  }

  done(consumer: string, sequence: number): void {
    if (this.failing.delete(`${consumer}/${sequence}`)) this.report();
  }

  report(): void {
    const counts = new Map([...this.consumers].map((consumer) => [consumer, 0]));
    for (const [key, { consumer, at }] of this.failing) {
      if (Date.now() - at > this.forgetAfterMs) this.failing.delete(key);
      else counts.set(consumer, (counts.get(consumer) ?? 0) + 1);
    }
    for (const [consumer, count] of counts) {
      messagingMetrics.compensationsPending.set({ consumer }, count);
    }
  }
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

/**
 * A counting semaphore: `take` waits while every slot is busy. Whoever fills its queue keeps it as
 * long as the slots are many: `queueFull`, then `roomInQueue` waits until a taker got its slot.
 */
class Slots {
  private free: number;
  private readonly takers: (() => void)[] = [];
  private readonly fillers: (() => void)[] = [];

  constructor(private readonly size: number) {
    this.free = size;
  }

  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** Waits for a slot that `give` hands over directly. */
  take(): Promise<void> {
    return new Promise<void>((resolve) => this.takers.push(resolve));
  }

  give(): void {
    const next = this.takers.shift();
    if (!next) {
      this.free++;
      return;
    }
    next();
    this.fillers.shift()?.();
  }

  get queueFull(): boolean {
    return this.takers.length >= this.size;
  }

  roomInQueue(): Promise<void> {
    return new Promise<void>((resolve) => this.fillers.push(resolve));
  }
}
