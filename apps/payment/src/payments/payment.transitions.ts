import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  EventOrigin,
  PaymentCancelledV1,
  PaymentFailedV1,
  PaymentPendingV1,
  PaymentRefundedV1,
  PaymentSucceededV1,
} from '@lib/contracts';
import { Outbox } from '@lib/messaging';
import { Payment } from './payment.entity';
import { PaymentAnnouncement, paymentTransition, PaymentTrigger } from './payment.state';

/** Fields a trigger brings along: the intent once it exists, the failure Stripe reported. */
export type PaymentChanges = Partial<
  Pick<
    Payment,
    'paymentIntentId' | 'clientSecret' | 'failureReason' | 'failureCode' | 'declineCode'
  >
>;

/**
 * Load under lock → apply a trigger → persist + outbox, inside the caller's transaction. A trigger
 * the transition table does not list for the current status changes nothing and publishes nothing.
 */
@Injectable()
export class PaymentTransitions {
  private readonly logger = new Logger(PaymentTransitions.name);

  constructor(private readonly outbox: Outbox) {}

  /** The order's payment, locked until the transaction ends: webhooks and consumers serialise on it. */
  lock(
    manager: EntityManager,
    where: { orderId: string } | { paymentIntentId: string },
  ): Promise<Payment | null> {
    return manager.findOne(Payment, { where, lock: { mode: 'pessimistic_write' } });
  }

  async apply(
    manager: EntityManager,
    payment: Payment,
    trigger: PaymentTrigger,
    changes: PaymentChanges = {},
    cause?: EventEnvelope,
  ): Promise<EventEnvelope[]> {
    const transition = paymentTransition(payment.status, trigger);
    const log = { orderId: payment.orderId, sagaId: payment.sagaId, from: payment.status, trigger };
    if (!transition) {
      this.logger.log({ msg: 'payment unchanged: late, duplicate or out of order', ...log });
      return [];
    }
    Object.assign(payment, changes, { status: transition.to });
    // updated_at is an @UpdateDateColumn: the UPDATE sets it.
    await manager.update(Payment, { id: payment.id }, { ...changes, status: transition.to });
    const events = transition.announce ? [announce(transition.announce, payment, cause)] : [];
    await this.outbox.add(manager, events);
    this.logger.log({ msg: 'payment transition', ...log, to: transition.to });
    return events;
  }
}

/** The announcements whose payload is the payment's intent and money: one event each. */
const MONEY_EVENTS = {
  pending: PaymentPendingV1,
  succeeded: PaymentSucceededV1,
  refunded: PaymentRefundedV1,
} as const;

function announce(
  kind: PaymentAnnouncement,
  payment: Payment,
  cause: EventEnvelope | undefined,
): EventEnvelope {
  // A webhook has no event as its cause: the order's conversation comes from the payment row.
  const origin: EventOrigin = {
    cause,
    correlationId: payment.correlationId,
    sagaId: payment.sagaId ?? undefined,
    tenantId: payment.tenantId,
  };
  const { orderId, id: paymentId } = payment;
  const paymentIntentId = payment.paymentIntentId ?? '';
  const money = { amountMinor: payment.amountMinor, currency: payment.currency ?? '' };
  switch (kind) {
    case 'pending':
    case 'succeeded':
    case 'refunded':
      return createEvent(
        MONEY_EVENTS[kind],
        { orderId, paymentId, paymentIntentId, ...money },
        origin,
      );
    case 'cancelled':
      return createEvent(PaymentCancelledV1, { orderId, paymentId, paymentIntentId }, origin);
    case 'failed':
      return createEvent(
        PaymentFailedV1,
        {
          orderId,
          paymentId,
          ...(payment.paymentIntentId ? { paymentIntentId: payment.paymentIntentId } : {}),
          reason: payment.failureReason ?? 'payment failed',
          ...(payment.failureCode ? { code: payment.failureCode } : {}),
          ...(payment.declineCode ? { declineCode: payment.declineCode } : {}),
        },
        origin,
      );
  }
}
