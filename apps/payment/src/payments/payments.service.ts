import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  EventEnvelope,
  OrderCancelledV1Payload,
  OrderConfirmedV1Payload,
  OrderPaymentRequestedV1Payload,
} from '@lib/contracts';
import { Inbox, JetStreamContext, RejectedEventError, RejectionReason } from '@lib/messaging';
import { traceContextOf } from '@lib/observability';
import { DEFAULT_TENANT, Scope } from '@lib/platform';
import { PaymentConfig } from '../config';
import { recordPublished } from '../payment.metrics';
import { hasStripeCode, isStripeRefusal, StripeGateway } from '../stripe/stripe.gateway';
import { Payment } from './payment.entity';
import { CompensationRetryError, PaymentNotFoundError } from './payment.errors';
import { PaymentStatus, PaymentTrigger } from './payment.state';
import { PaymentChanges, PaymentTransitions } from './payment.transitions';

/** What undoing the payment of a cancelled order came to. */
export type SettledBy = Extract<PaymentTrigger, 'cancelled' | 'refunded' | 'abandoned'>;

/** `GET /payments/:orderId`: the order's payment, as the storefront and operators see it. */
export interface PaymentView {
  /** @format uuid */
  orderId: string;
  /** @format uuid */
  paymentId: string;
  status: PaymentStatus;
  /**
   * Minor units (cents).
   * @integer
   * @example 2500
   */
  amountMinor: number;
  /** @example EUR */
  currency: string | null;
  paymentIntentId: string | null;
  /** Only while the customer can still pay: the storefront confirms the intent with it. */
  clientSecret: string | null;
  failure: { reason: string; code: string | null; declineCode: string | null } | null;
}

const PAYABLE: readonly PaymentStatus[] = ['PENDING', 'FAILED'];

/** The `payment.failed` reason of a request too old to create a PaymentIntent for. */
export const REQUEST_EXPIRED = 'request-expired';

/**
 * The saga's payment step and its compensation. A Stripe call cannot sit inside a transaction, so
 * every step is: read the payment, call Stripe with a key derived from the saga and the step, then
 * commit the outcome, the inbox record and the events together. A crash between the call and the
 * commit redelivers the event, and the same key gets Stripe's first answer back.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger(PaymentsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly inbox: Inbox,
    private readonly stripe: StripeGateway,
    private readonly transitions: PaymentTransitions,
    private readonly config: PaymentConfig,
  ) {}

  /**
   * `order.payment-requested`: create the PaymentIntent and publish `payment.pending`; a request
   * older than PAYMENT_REQUEST_MAX_AGE_MS fails the payment instead (`requestExpired`).
   */
  async request(
    context: JetStreamContext,
    event: EventEnvelope<OrderPaymentRequestedV1Payload>,
  ): Promise<void> {
    const payment = await this.claim(event);
    const mismatch = requestMismatch(payment, event);
    if (mismatch) {
      throw new RejectedEventError(mismatch.reason, mismatch.detail, {
        orderId: payment.orderId,
        paymentId: payment.id,
        sagaId: payment.sagaId,
      });
    }
    // Already created, a tombstone (the order was cancelled before its payment was requested), or
    // cancelled meanwhile: its compensation finds the intent, if any, by the create key.
    if (payment.status !== 'CREATING' || payment.orderCancelledAt) {
      return this.acknowledge(context, event);
    }
    const { trigger, changes } = await this.attemptIntent(payment, event);
    await this.commit(context, event, (manager) =>
      this.transition(manager, payment, trigger, changes, event),
    );
  }

  /**
   * The PaymentIntent of a CREATING payment, or why there is none: Stripe refused it, or the
   * request expired.
   */
  private async attemptIntent(
    payment: Payment,
    event: EventEnvelope<OrderPaymentRequestedV1Payload>,
  ): Promise<{ trigger: PaymentTrigger; changes: PaymentChanges }> {
    const expired = this.requestExpired(payment, event);
    if (expired) {
      this.logger.warn({
        msg: 'payment request expired: no PaymentIntent created, the payment fails',
        orderId: payment.orderId,
        sagaId: payment.sagaId,
        eventId: event.eventId,
        ...expired,
      });
      return {
        trigger: 'creation-failed',
        changes: {
          failureReason: REQUEST_EXPIRED,
          failureCode: REQUEST_EXPIRED,
          declineCode: null,
        },
      };
    }
    try {
      const intent = await this.createIntent(payment);
      return {
        trigger: 'created',
        changes: { paymentIntentId: intent.id, clientSecret: intent.client_secret },
      };
    } catch (error) {
      if (!isStripeRefusal(error)) throw error;
      return {
        trigger: 'creation-failed',
        changes: {
          failureReason: error.message,
          failureCode: error.code ?? null,
          declineCode: error.decline_code ?? null,
        },
      };
    }
  }

  /**
   * Stripe keeps an idempotency key about 24 hours: past that, the create key of this saga no
   * longer finds the intent a first attempt may have made, and a second one would be created. The
   * key was first used no earlier than the request was made and the payment row claimed, so the
   * older of the two counts.
   */
  private requestExpired(
    payment: Payment,
    event: EventEnvelope<OrderPaymentRequestedV1Payload>,
  ): { requestedAt: string; ageMs: number } | undefined {
    const requestedAt = Math.min(Date.parse(event.occurredAt), payment.createdAt.getTime());
    const ageMs = Date.now() - requestedAt;
    if (ageMs <= this.config.PAYMENT_REQUEST_MAX_AGE_MS) return undefined;
    return { requestedAt: new Date(requestedAt).toISOString(), ageMs };
  }

  /**
   * `order.cancelled`: records that the order is cancelled, then cancels the intent if the money
   * has not moved and refunds it if it has. The record commits first, on its own: a success Stripe
   * reports from then on is refunded at once (PaymentReconciler), and if this compensation is lost
   * the reconciliation pass finishes it.
   */
  async compensate(
    context: JetStreamContext,
    event: EventEnvelope<OrderCancelledV1Payload>,
  ): Promise<void> {
    const { orderId } = event.payload;
    const payment = await this.recordCancellation(orderId);
    if (!payment) {
      // Nothing to undo; the tombstone stops a payment request that is still on its way.
      return this.commit(context, event, async (manager) => {
        if (!(await this.insertPayment(manager, event, 0, null, 'CANCELLED'))) {
          throw new CompensationRetryError(`the payment of ${orderId} was requested meanwhile`);
        }
        return [];
      });
    }
    await this.settle(payment, { context, event });
  }

  /**
   * Undoes the payment of an order payment knows is cancelled, as Stripe has it now; answers what
   * it did, undefined when there was nothing left to do (or the order is not known cancelled). For
   * the reconciliation pass and a success reported after the cancel: no event is its cause.
   */
  async settleCancelled(orderId: string): Promise<SettledBy | undefined> {
    const payment = await this.dataSource.getRepository(Payment).findOneBy({ orderId });
    if (!payment?.orderCancelledAt) return undefined;
    return this.settle(payment);
  }

  /** `order.confirmed` with manual capture: take the money that was authorized. */
  async capture(
    context: JetStreamContext,
    event: EventEnvelope<OrderConfirmedV1Payload>,
  ): Promise<void> {
    const payment = await this.dataSource
      .getRepository(Payment)
      .findOneBy({ orderId: event.payload.orderId });
    if (payment?.status !== 'AUTHORIZED' || !payment.paymentIntentId) {
      return this.acknowledge(context, event);
    }
    try {
      await this.stripe.captureIntent(payment.paymentIntentId, stepKey('capture', payment));
    } catch (error) {
      if (!hasStripeCode(error, 'payment_intent_unexpected_state')) throw error;
      const intent = await this.stripe.retrieveIntent(payment.paymentIntentId);
      if (intent.status !== 'succeeded') throw error;
    }
    await this.commit(context, event, (manager) =>
      this.transition(manager, payment, 'captured', {}, event),
    );
  }

  /**
   * The order's payment if the scope may see it: its tenant's, and with an owner only the payments
   * of that customer's orders. Anything else is the same 404 as a payment that does not exist.
   */
  async find(orderId: string, scope: Scope): Promise<PaymentView> {
    const payment = await this.dataSource.getRepository(Payment).findOneBy({
      orderId,
      tenantId: scope.tenantId,
      ...(scope.ownerId !== undefined && { customerId: scope.ownerId }),
    });
    if (!payment) throw new PaymentNotFoundError(orderId);
    return {
      orderId,
      paymentId: payment.id,
      status: payment.status,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      paymentIntentId: payment.paymentIntentId,
      clientSecret: PAYABLE.includes(payment.status) ? payment.clientSecret : null,
      failure: payment.failureReason
        ? {
            reason: payment.failureReason,
            code: payment.failureCode,
            declineCode: payment.declineCode,
          }
        : null,
    };
  }

  /**
   * The payment row for this order, inserted as CREATING unless one exists. Committed on its own,
   * before the Stripe call, so the compensation always finds what it must undo.
   */
  private async claim(event: EventEnvelope<OrderPaymentRequestedV1Payload>): Promise<Payment> {
    const { orderId, amountMinor, currency } = event.payload;
    await this.insertPayment(this.dataSource.manager, event, amountMinor, currency, 'CREATING');
    return this.dataSource.getRepository(Payment).findOneByOrFail({ orderId });
  }

  private createIntent(payment: Payment) {
    const { orderId, sagaId, correlationId, amountMinor, currency, traceContext } = payment;
    return this.stripe.createIntent(
      { orderId, sagaId, correlationId, amountMinor, currency: currency ?? '', traceContext },
      stepKey('create', payment),
    );
  }

  /** Marks the order's payment as one of a cancelled order (once); null when it has none yet. */
  private async recordCancellation(orderId: string): Promise<Payment | null> {
    await this.dataSource
      .createQueryBuilder()
      .update(Payment)
      .set({ orderCancelledAt: () => 'coalesce(order_cancelled_at, now())' })
      .where({ orderId })
      .execute();
    return this.dataSource.getRepository(Payment).findOneBy({ orderId });
  }

  /**
   * Undoes the payment at Stripe and records the outcome: with `delivery`, together with its inbox
   * record (and the event as the cause of what it publishes). Answers what Stripe was asked to
   * do, undefined if nothing was left to do.
   */
  private async settle(
    payment: Payment,
    delivery?: { context: JetStreamContext; event: EventEnvelope<{ orderId: string }> },
  ): Promise<SettledBy | undefined> {
    const undone = await this.undo(payment);
    if (!undone) {
      if (delivery) await this.acknowledge(delivery.context, delivery.event);
      return undefined;
    }
    this.logger.log({ msg: 'payment compensated', orderId: payment.orderId, ...undone });
    const { trigger, paymentIntentId } = undone;
    const changes = paymentIntentId ? { paymentIntentId } : {};
    const effect = (manager: EntityManager) =>
      this.transition(manager, payment, trigger, changes, delivery?.event);
    if (delivery) await this.commit(delivery.context, delivery.event, effect);
    else recordPublished(await this.dataSource.transaction(effect));
    return trigger;
  }

  /**
   * Stripe's answer to the compensation, whatever happened there since we last looked; undefined
   * when there is nothing to undo: already undone. Without an intent at Stripe (its creation was
   * refused) the payment is abandoned.
   */
  private async undo(
    payment: Payment,
  ): Promise<{ trigger: SettledBy; paymentIntentId?: string } | undefined> {
    if (payment.status === 'CANCELLED' || payment.status === 'REFUNDED') return undefined;
    const paymentIntentId = payment.paymentIntentId ?? (await this.intentBeingCreated(payment));
    if (!paymentIntentId) return { trigger: 'abandoned' };
    if (payment.status === 'SUCCEEDED') return this.refund(payment, paymentIntentId);
    try {
      await this.stripe.cancelIntent(paymentIntentId, stepKey('cancel', payment));
      return { trigger: 'cancelled', paymentIntentId };
    } catch (error) {
      if (!hasStripeCode(error, 'payment_intent_unexpected_state')) throw error;
    }
    // The intent moved on before its webhook arrived: ask Stripe where it is.
    const intent = await this.stripe.retrieveIntent(paymentIntentId);
    if (intent.status === 'canceled') return { trigger: 'cancelled', paymentIntentId };
    if (intent.status === 'succeeded') return this.refund(payment, paymentIntentId);
    throw new CompensationRetryError(`PaymentIntent ${paymentIntentId} is ${intent.status}`);
  }

  /**
   * CREATING: the request may have reached Stripe before a crash, or be on its way now; the create
   * key finds that intent (or makes it, to be cancelled at once). A refusal means there is none.
   */
  private async intentBeingCreated(payment: Payment): Promise<string | undefined> {
    if (payment.status !== 'CREATING') return undefined;
    try {
      return (await this.createIntent(payment)).id;
    } catch (error) {
      if (isStripeRefusal(error)) return undefined;
      throw error;
    }
  }

  private async refund(
    payment: Payment,
    paymentIntentId: string,
  ): Promise<{ trigger: 'refunded'; paymentIntentId: string }> {
    try {
      await this.stripe.refund(paymentIntentId, stepKey('refund', payment));
    } catch (error) {
      if (!hasStripeCode(error, 'charge_already_refunded')) throw error;
    }
    return { trigger: 'refunded', paymentIntentId };
  }

  /** Applies the trigger to the payment as it is now: a webhook may have moved it meanwhile. */
  private async transition(
    manager: EntityManager,
    payment: Payment,
    trigger: PaymentTrigger,
    changes: PaymentChanges,
    cause: EventEnvelope | undefined,
  ): Promise<EventEnvelope[]> {
    const current = await this.transitions.lock(manager, { orderId: payment.orderId });
    if (!current) throw new Error(`payment of order ${payment.orderId} disappeared`);
    return this.transitions.apply(manager, current, trigger, changes, cause);
  }

  /** The effect and the event's inbox record commit together; the effect locks the order's payment. */
  private async commit(
    context: JetStreamContext,
    event: EventEnvelope<{ orderId: string }>,
    effect: (manager: EntityManager) => Promise<EventEnvelope[]>,
  ): Promise<void> {
    const published = await this.inbox.handleOnce(context, event, effect, event.payload.orderId);
    recordPublished(published ?? []);
  }

  /** Records the event as handled, with nothing to change or publish. */
  private acknowledge(
    context: JetStreamContext,
    event: EventEnvelope<{ orderId: string }>,
  ): Promise<void> {
    return this.commit(context, event, () => Promise.resolve([]));
  }

  /** Inserts the order's payment row unless one exists; true when this call inserted it. */
  private async insertPayment(
    manager: EntityManager,
    event: EventEnvelope<{ orderId: string; customerId?: string }>,
    amountMinor: number,
    currency: string | null,
    status: PaymentStatus,
  ): Promise<boolean> {
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(Payment)
      .values({
        id: randomUUID(),
        orderId: event.payload.orderId,
        status,
        amountMinor,
        currency,
        correlationId: event.correlationId,
        sagaId: event.sagaId ?? null,
        tenantId: event.tenantId ?? DEFAULT_TENANT,
        customerId: event.payload.customerId ?? null,
        traceContext: traceContextOf(event),
        // A tombstone is the payment of an order known cancelled.
        orderCancelledAt: status === 'CANCELLED' ? () => 'now()' : null,
      })
      .orIgnore()
      .returning('id')
      .execute();
    return (inserted.raw as unknown[]).length > 0;
  }
}

/**
 * A payment request that does not match the payment already recorded for its order (by an earlier
 * request: this one's own insert matches by construction): another amount, currency, tenant or
 * saga. A tombstone carries no request to compare with. Payment knows no order total of its own:
 * the amount is the saga's, which checked it against inventory's reservation.
 */
function requestMismatch(
  payment: Payment,
  event: EventEnvelope<OrderPaymentRequestedV1Payload>,
): { reason: RejectionReason; detail: string } | undefined {
  if (payment.currency === null) return undefined;
  const { amountMinor, currency } = event.payload;
  const tenantId = event.tenantId ?? DEFAULT_TENANT;
  const requested = `${amountMinor} ${currency}`;
  const recorded = `${payment.amountMinor} ${payment.currency}`;
  if (tenantId !== payment.tenantId) {
    return {
      reason: 'tenant',
      detail: `requested by ${tenantId}, the payment is ${payment.tenantId}'s`,
    };
  }
  if ((event.sagaId ?? null) !== payment.sagaId) {
    return {
      reason: 'saga',
      detail: `requested by saga ${event.sagaId ?? 'none'}, the payment is saga ${payment.sagaId ?? 'none'}'s`,
    };
  }
  if (amountMinor !== payment.amountMinor) {
    return { reason: 'amount', detail: `requested ${requested}, the payment is for ${recorded}` };
  }
  if (currency !== payment.currency) {
    return { reason: 'currency', detail: `requested ${requested}, the payment is for ${recorded}` };
  }
  return undefined;
}

/** One idempotency key per saga and step: a retried step gets Stripe's first answer back. */
function stepKey(step: 'create' | 'cancel' | 'refund' | 'capture', payment: Payment): string {
  return `pay:${step}:${payment.sagaId ?? payment.orderId}`;
}
