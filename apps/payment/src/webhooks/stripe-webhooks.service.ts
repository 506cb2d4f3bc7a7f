import { Injectable, Logger } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type Stripe from 'stripe';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, isPlainObject } from '@lib/contracts';
import { errorMessage } from '@lib/messaging';
import { continueTrace } from '@lib/observability';
import { retryingConflicts } from '@lib/persistence';
import { DomainError } from '@lib/platform';
import { paymentMetrics, recordPublished } from '../payment.metrics';
import { PaymentTransitions } from '../payments/payment.transitions';
import { PaymentReconciler } from '../payments/payment.reconciler';
import { PaymentStatus } from '../payments/payment.state';
import { StripeGateway } from '../stripe/stripe.gateway';
import { Payment } from '../payments/payment.entity';
import {
  checkWebhook,
  decideWebhook,
  WebhookDecision,
  WebhookMismatch,
} from './stripe-event.mapping';
import { StripeEventRecord } from './stripe-event.entity';

/**
 * Stripe's id shapes (a prefix, then letters, digits or underscores): checked before anything is
 * stored, so a signed event with an id like `""` or `"true"` is refused, not recorded.
 */
const EVENT_ID = /^evt_[A-Za-z0-9_]{1,255}$/;
const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9_]{1,255}$/;

/** What a payment holds when the customer's money moved or is held for it. */
const HOLDS_MONEY: readonly PaymentStatus[] = ['SUCCEEDED', 'AUTHORIZED'];

export class InvalidWebhookError extends DomainError {
  readonly code = 'WEBHOOK.INVALID';
  readonly status = 400;
}

/**
 * `applied`: the payment moved; `unchanged`: late or out of order; `ignored`: not ours; `rejected`:
 * about one of our payments but not matching it (forged, or another mode or account): stored with
 * its reason, answered 2xx so Stripe stops retrying, and alerted on.
 */
export type WebhookOutcome = 'applied' | 'unchanged' | 'ignored' | 'rejected' | 'duplicate';

export interface WebhookReceipt {
  received: true;
  /** Stripe's event id, `evt_...`. */
  eventId: string;
  outcome: WebhookOutcome;
}

/** What storing a webhook's event did, and what follows its commit. */
interface StoredWebhook {
  outcome: WebhookOutcome;
  published: EventEnvelope[];
  /** The event did not match its payment: stored rejected, logged and counted after the commit. */
  mismatch?: WebhookMismatch;
  /** Paid after its order was cancelled: the order whose money goes back after the commit. */
  moneyOfCancelledOrder?: string;
}

/**
 * Verifies, stores and applies a Stripe event in one transaction: the event id (stored once), the
 * payment's transition and its `payment.*` event (outbox). A redelivery finds the id and does
 * nothing; an event that does not verify stores nothing; a verified event that does not match its
 * payment (`checkWebhook`) is stored as rejected and moves nothing.
 */
@Injectable()
export class StripeWebhooksService {
  private readonly logger = new Logger(StripeWebhooksService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly stripe: StripeGateway,
    private readonly transitions: PaymentTransitions,
    private readonly reconciler: PaymentReconciler,
  ) {}

  receive(rawBody: Buffer | undefined, signature: string | undefined): Promise<WebhookReceipt> {
    const event = this.verify(rawBody, signature);
    const decision = decideWebhook(event);
    if (decision && !PAYMENT_INTENT_ID.test(decision.paymentIntentId))
      this.reject('the event names no PaymentIntent id of the shape Stripe makes (pi_…)');
    // Stripe's delivery is a trace of its own; what it moves continues the payment's trace.
    return continueTrace(`stripe webhook ${event.type}`, decision?.traceContext, () =>
      this.apply(event, decision),
    );
  }

  private async apply(
    event: Stripe.Event,
    decision: WebhookDecision | undefined,
  ): Promise<WebhookReceipt> {
    // Two transactions that lock payments in opposite orders (consumers' batches) can take this
    // one, queued on one of their rows, into their deadlock: Postgres undoes it, so it runs again.
    const { outcome, published, mismatch, moneyOfCancelledOrder } = await retryingConflicts(() =>
      this.dataSource.transaction((manager) => this.store(manager, event, decision)),
    );
    recordPublished(published);
    // Paid after its order was cancelled: given back now, not when (if) the saga hears of it.
    if (moneyOfCancelledOrder) this.reconciler.settleNow(moneyOfCancelledOrder);
    paymentMetrics.webhooks.inc({ type: event.type, outcome });
    if (mismatch) {
      paymentMetrics.webhooksRejected.inc({ reason: mismatch.reason });
      this.logger.error({
        msg: 'Stripe event rejected: it does not match the payment',
        stripeEventId: event.id,
        type: event.type,
        paymentIntentId: decision?.paymentIntentId,
        orderId: decision?.orderId,
        reason: mismatch.reason,
        detail: mismatch.detail,
      });
    }
    this.logger.log({
      msg: 'Stripe event received',
      stripeEventId: event.id,
      type: event.type,
      paymentIntentId: decision?.paymentIntentId,
      outcome,
    });
    return { received: true, eventId: event.id, outcome };
  }

  /** Stores the event once and applies it to its payment, in the caller's transaction. */
  private async store(
    manager: EntityManager,
    event: Stripe.Event,
    decision: WebhookDecision | undefined,
  ): Promise<StoredWebhook> {
    const stored: unknown[] = await manager
      .createQueryBuilder()
      .insert()
      .into(StripeEventRecord)
      .values({
        id: event.id,
        type: event.type,
        paymentIntentId: decision?.paymentIntentId ?? null,
        outcome: 'ignored',
      })
      .orIgnore()
      .returning('id')
      .execute()
      .then((result) => result.raw as unknown[]);
    if (stored.length === 0) return { outcome: 'duplicate', published: [] };
    const payment = decision && (await this.paymentOf(manager, decision));
    // No intent recorded yet: its creation has not committed, so there is nothing to compare.
    if (!decision || !payment?.paymentIntentId) return { outcome: 'ignored', published: [] };
    const mismatch = checkWebhook(event, decision, payment, this.stripe.liveKey);
    if (mismatch) {
      await manager.update(
        StripeEventRecord,
        { id: event.id },
        { outcome: 'rejected', reason: `${mismatch.reason}: ${mismatch.detail}` },
      );
      return { outcome: 'rejected', published: [], mismatch };
    }
    const before = payment.status;
    const events = await this.transitions.apply(
      manager,
      payment,
      decision.trigger,
      decision.changes,
    );
    const outcome = payment.status === before ? 'unchanged' : 'applied';
    await manager.update(StripeEventRecord, { id: event.id }, { outcome });
    const holdsMoneyOfCancelledOrder =
      payment.orderCancelledAt && HOLDS_MONEY.includes(payment.status);
    return {
      outcome,
      published: events,
      moneyOfCancelledOrder: holdsMoneyOfCancelledOrder ? payment.orderId : undefined,
    };
  }

  /**
   * The payment the event is about, locked: by its PaymentIntent, or else by the order its
   * metadata names, so an event naming our order with another intent is caught, not ignored.
   */
  private async paymentOf(
    manager: EntityManager,
    { paymentIntentId, orderId }: WebhookDecision,
  ): Promise<Payment | null> {
    const byIntent = await this.transitions.lock(manager, { paymentIntentId });
    if (byIntent || !orderId || !isUUID(orderId)) return byIntent;
    return this.transitions.lock(manager, { orderId });
  }

  /** A 400 for a body that is not a signed, well-formed Stripe event: nothing is stored. */
  private reject(reason: string): never {
    paymentMetrics.webhooks.inc({ type: 'unverified', outcome: 'rejected' });
    this.logger.warn({ msg: 'Stripe webhook rejected', reason });
    throw new InvalidWebhookError(reason);
  }

  private verify(rawBody: Buffer | undefined, signature: string | undefined): Stripe.Event {
    const reject = (reason: string) => this.reject(reason);
    if (!rawBody || rawBody.length === 0) return reject('the body must be the JSON Stripe signed');
    if (!signature) return reject('the Stripe-Signature header is missing');
    let event: Stripe.Event;
    try {
      event = this.stripe.verifyWebhook(rawBody, signature);
    } catch (error) {
      return reject(`signature verification failed: ${errorMessage(error)}`);
    }
    const data = (event as Partial<Stripe.Event>).data;
    if (
      typeof event.id !== 'string' ||
      typeof event.type !== 'string' ||
      !isPlainObject(data?.object)
    ) {
      return reject('the body is not a Stripe event (id, type and data.object are required)');
    }
    if (!EVENT_ID.test(event.id))
      return reject('the event id is not of the shape Stripe makes (evt_…)');
    return event;
  }
}
