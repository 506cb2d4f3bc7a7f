import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  InventoryReservedV1Payload,
  OrderCancelledV1,
  OrderConfirmedV1,
  OrderCreatedV1,
  OrderFailedV1,
  OrderPaymentRequestedV1,
  OrderResolvedV1,
  subjectFor,
} from '@lib/contracts';
import { InboxEntry, PermanentEventError, RejectedEventError } from '@lib/messaging';
import { Scope } from '@lib/platform';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { sagaMetrics } from './order-saga.metrics';
import { checkReply, intentToRecord, SagaRecord } from './order-saga.replies';
import {
  isFinal,
  SagaCommand,
  SagaDeadline,
  SagaState,
  SagaTransition,
  SagaTrigger,
  transitionFor,
} from './order-saga.state';
import { SagaChange, SagaConcurrencyError, SagaRepository } from './saga.repository';
import { Saga } from './saga.entity';

/** A participant's reply to apply to the saga of its order. */
export interface SagaReply {
  orderId: string;
  trigger: SagaTrigger;
  cause: EventEnvelope;
  inbox: InboxEntry;
}

/** What a transition is applied with, besides its saga and trigger. */
export interface TransitionOptions {
  /** The reply that caused it, and its record in the consumer's inbox. */
  cause?: EventEnvelope;
  inbox?: InboxEntry;
  /** The transaction to write in (a cancel's, with its audit record); its own statement otherwise. */
  manager?: EntityManager;
  /** Without a cause: the causation of the command a retry repeats. */
  causationId?: string | null;
}

export type SagaOutcome =
  /** `duplicate`: the cause was in the inbox already, so it had been applied before. */
  | { applied: false; saga: Saga; duplicate?: true }
  | {
      applied: true;
      saga: Saga;
      from: SagaState;
      transition: SagaTransition;
      /** What the transition emitted (outbox). */
      events: EventEnvelope[];
    };

/**
 * Load → check the reply against the saga's record → apply a trigger (the transition table) →
 * persist: the saga row (version checked), one step per state passed, the order's prices, the
 * events it emits (outbox) and the inbox record of its cause, all in one statement. A trigger the
 * table does not list for the current state is a late or duplicate reply and changes nothing; a
 * reply that does not match what the saga asked for is refused (RejectedEventError: dead-lettered,
 * counted, logged) and changes nothing either.
 */
@Injectable()
export class OrderSagaOrchestrator {
  private readonly logger = new Logger(OrderSagaOrchestrator.name);

  constructor(
    private readonly sagas: SagaRepository,
    @Inject(ORDER_CONFIG) private readonly config: OrderConfig,
  ) {}

  /**
   * Applies `trigger` to the saga of the order in `scope`; undefined when there is none there (and
   * no cause).
   */
  async apply(
    orderId: string,
    trigger: SagaTrigger,
    scope: Scope,
    options: TransitionOptions = {},
  ): Promise<SagaOutcome | undefined> {
    const withLines = trigger === 'stock-reserved' && options.cause !== undefined;
    const saga = await this.sagas.findByOrder(orderId, scope, options.manager, withLines);
    if (!saga) {
      if (options.cause) throw new PermanentEventError(`no saga for order ${orderId}`);
      return undefined;
    }
    return this.transition(saga, trigger, options);
  }

  /**
   * Applies `trigger` to `saga` as loaded: SagaConcurrencyError if it has changed since,
   * RejectedEventError if its cause does not match the saga.
   */
  async transition(
    saga: SagaRecord,
    trigger: SagaTrigger,
    { cause, inbox, manager, causationId }: TransitionOptions = {},
  ): Promise<SagaOutcome> {
    const rejection = cause && this.check(saga, trigger, cause);
    if (rejection) throw rejection;
    const change = this.decide(saga, trigger, cause, inbox, causationId);
    if (!change) return this.ignore(saga, trigger, inbox);
    const written = await this.sagas.persist([change], manager);
    if (written === 'duplicate') return { applied: false, saga, duplicate: true };
    return this.applied(change, trigger, written);
  }

  /**
   * Several replies at once, at most one per saga: one load, one write for all of them. If the write
   * fails (a cause already in the inbox, or any error), each reply is applied on its own instead,
   * so one bad reply costs the others nothing. Answers each reply's outcome, in order.
   */
  async applyAll(replies: SagaReply[]): Promise<PromiseSettledResult<SagaOutcome>[]> {
    const sagas = await this.sagas.findByOrders(
      replies.map((reply) => reply.orderId),
      replies.filter((reply) => reply.trigger === 'stock-reserved').map((reply) => reply.orderId),
    );
    const byOrder = new Map(sagas.map((saga) => [saga.orderId, saga]));
    const changes = new Map<SagaReply, SagaChange>();
    const rejections = new Map<SagaReply, RejectedEventError>();
    for (const reply of replies) {
      const saga = byOrder.get(reply.orderId);
      if (!saga) continue;
      const rejection = this.check(saga, reply.trigger, reply.cause);
      if (rejection) rejections.set(reply, rejection);
      const change = !rejection && this.decide(saga, reply.trigger, reply.cause, reply.inbox);
      if (change) changes.set(reply, change);
    }
    const written =
      changes.size > 0
        ? await this.sagas.persist([...changes.values()]).catch(() => 'failed' as const)
        : new Set<string>();
    return Promise.allSettled(
      replies.map(async (reply) => {
        const saga = byOrder.get(reply.orderId);
        if (!saga) throw new PermanentEventError(`no saga for order ${reply.orderId}`);
        const rejection = rejections.get(reply);
        if (rejection) throw rejection;
        const change = changes.get(reply);
        if (!change) return this.ignore(saga, reply.trigger, reply.inbox);
        // A failed batch (a cause already in the inbox, any error): this reply on its own.
        if (typeof written === 'string')
          return this.transition(saga, reply.trigger, { cause: reply.cause, inbox: reply.inbox });
        return this.applied(change, reply.trigger, written);
      }),
    );
  }

  /** A reply that does not match what the saga asked for, as the error that refuses it. */
  private check(
    saga: SagaRecord,
    trigger: SagaTrigger,
    cause: EventEnvelope,
  ): RejectedEventError | undefined {
    const mismatch = checkReply(saga, trigger, cause);
    if (!mismatch) return undefined;
    return new RejectedEventError(mismatch.reason, mismatch.detail, {
      sagaId: saga.id,
      orderId: saga.orderId,
      state: saga.state,
      trigger,
    });
  }

  /** The transition table's answer to `trigger` in the saga's state, as the writes it makes. */
  private decide(
    saga: SagaRecord,
    trigger: SagaTrigger,
    cause: EventEnvelope | undefined,
    inbox: InboxEntry | undefined,
    causationId?: string | null,
  ): SagaChange | undefined {
    const transition = transitionFor(saga.state, trigger);
    if (!transition) return undefined;
    const from = saga.state;
    const now = new Date();
    const change: SagaChange = {
      saga,
      transition,
      changes: {
        state: transition.path[transition.path.length - 1]!,
        deadlineAt: this.deadline(transition.deadline, saga.deadlineAt, now),
        reason: transition.reason ?? saga.reason,
        updatedAt: now,
      },
      steps: transition.path.map((to, i) => ({
        fromState: i === 0 ? from : transition.path[i - 1]!,
        toState: to,
        trigger: cause ? subjectFor(cause.eventName, cause.eventVersion) : trigger,
        eventId: cause?.eventId ?? null,
        reason: transition.reason ?? null,
      })),
      events: [],
      inbox,
    };
    if (trigger === 'stock-reserved' && cause) {
      const { lines, totalMinor, currency, reservationId } = (
        cause as EventEnvelope<InventoryReservedV1Payload>
      ).payload;
      // Inventory's catalogue prices become the order's: lines, total and the amount to collect.
      change.prices = { lines, totalMinor };
      Object.assign(change.changes, { reservationId, amountMinor: totalMinor, currency });
    }
    const paymentIntentId = cause && intentToRecord(saga, trigger, cause);
    if (paymentIntentId) change.changes.paymentIntentId = paymentIntentId;
    if (transition.command)
      change.events.push(this.event(transition.command, this.after(change), cause, causationId));
    return change;
  }

  /** A late or duplicate reply: recorded in the inbox, if it has one, and otherwise ignored. */
  private async ignore(saga: Saga, trigger: SagaTrigger, inbox?: InboxEntry): Promise<SagaOutcome> {
    this.logger.log({
      msg: 'reply ignored: late or duplicate',
      sagaId: saga.id,
      state: saga.state,
      trigger,
    });
    if (inbox && !(await this.sagas.recordIgnored(inbox)))
      return { applied: false, saga, duplicate: true };
    return { applied: false, saga };
  }

  /** The outcome of a change `persist` answered with: SagaConcurrencyError if its saga was stale. */
  private applied(change: SagaChange, trigger: SagaTrigger, written: Set<string>): SagaOutcome {
    const { saga, transition } = change;
    if (!written.has(saga.id))
      throw new SagaConcurrencyError(`saga ${saga.id} changed concurrently`);
    const next = this.after(change);
    this.logger.log({
      msg: 'saga transition',
      sagaId: saga.id,
      orderId: saga.orderId,
      from: saga.state,
      to: next.state,
      trigger,
      reason: transition.reason,
    });
    const outcome: SagaOutcome = {
      applied: true,
      saga: next,
      from: saga.state,
      transition,
      events: change.events,
    };
    this.recordCommitted(outcome, trigger);
    return outcome;
  }

  private after({ saga, changes }: SagaChange): SagaRecord {
    return { ...saga, ...changes, version: saga.version + 1 };
  }

  /** Counts a transition once its write committed: sagas that reached a final state. */
  private recordCommitted(outcome: SagaOutcome, trigger: SagaTrigger): void {
    if (!outcome.applied) return;
    const { saga } = outcome;
    if (outcome.from === saga.state) {
      if (trigger === 'payment-succeeded') {
        sagaMetrics.latePayments.inc();
        this.logger.warn({
          msg: 'paid after the order was given up: compensation sent again to refund it',
          sagaId: saga.id,
          orderId: saga.orderId,
          state: saga.state,
        });
      }
      return;
    }
    if (!isFinal(saga.state)) return;
    sagaMetrics.duration.observe(
      { state: saga.state },
      (Date.now() - saga.createdAt.getTime()) / 1000,
    );
    if (saga.state === 'COMPLETED') sagaMetrics.completed.inc();
    else if (saga.state === 'CANCELLED')
      sagaMetrics.compensated.inc({ reason: saga.reason ?? 'unknown' });
    else if (saga.state === 'FAILED') sagaMetrics.failed.inc();
    // RESOLVED: an operator closed a saga already counted as failed.
  }

  deadline(kind: SagaDeadline | undefined, current: Date | null, now: Date): Date | null {
    switch (kind) {
      case undefined:
        return null;
      case 'unchanged':
        return current;
      case 'stock':
        return new Date(now.getTime() + this.config.SAGA_STOCK_TIMEOUT_MS);
      case 'payment':
        return new Date(now.getTime() + this.config.SAGA_PAYMENT_TIMEOUT_MS);
      case 'compensation':
        return new Date(now.getTime() + this.config.SAGA_COMPENSATION_TIMEOUT_MS);
    }
  }

  private event(
    command: SagaCommand,
    saga: SagaRecord,
    cause: EventEnvelope | undefined,
    causationId: string | null | undefined,
  ): EventEnvelope {
    const origin = {
      cause,
      causationId,
      correlationId: saga.correlationId,
      sagaId: saga.id,
      tenantId: saga.tenantId,
    };
    const orderId = saga.orderId;
    const reason = saga.reason ?? 'unknown';
    switch (command) {
      case 'create': {
        // A retry of the stock step: the order as it was placed (SagaRepository loads its lines).
        if (!saga.orderedLines) throw new Error(`saga ${saga.id} was loaded without its lines`);
        const items = saga.orderedLines.map(({ sku, quantity }) => ({ sku, quantity }));
        return createEvent(
          OrderCreatedV1,
          { orderId, customerId: saga.customerId, currency: saga.currency, items },
          origin,
        );
      }
      case 'request-payment':
        return createEvent(
          OrderPaymentRequestedV1,
          {
            orderId,
            customerId: saga.customerId,
            amountMinor: saga.amountMinor ?? 0,
            currency: saga.currency,
          },
          origin,
        );
      case 'confirm':
        return createEvent(
          OrderConfirmedV1,
          { orderId, amountMinor: saga.amountMinor ?? 0, currency: saga.currency },
          origin,
        );
      case 'cancel':
        return createEvent(OrderCancelledV1, { orderId, reason }, origin);
      case 'fail':
        return createEvent(OrderFailedV1, { orderId, reason }, origin);
      case 'resolve':
        return createEvent(OrderResolvedV1, { orderId, reason }, origin);
    }
  }
}
