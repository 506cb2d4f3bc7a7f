import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  InventoryReservedV1Payload,
  OrderCancelledV1,
  OrderConfirmedV1,
  OrderFailedV1,
  OrderPaymentRequestedV1,
  subjectFor,
} from '@lib/contracts';
import { Outbox, PermanentEventError } from '@lib/messaging';
import { OrderConfig } from '../config';
import { OrderLine } from '../orders/order-line.entity';
import { Order } from '../orders/order.entity';
import { ORDER_CONFIG } from '../order-config.token';
import { sagaMetrics } from './order-saga.metrics';
import {
  isFinal,
  SagaCommand,
  SagaDeadline,
  SagaState,
  SagaTransition,
  SagaTrigger,
  transitionFor,
} from './order-saga.state';
import { SagaStep } from './saga-step.entity';
import { Saga } from './saga.entity';

/** Another transition of the same saga committed first: retry against the new version. */
export class SagaConcurrencyError extends Error {
  override readonly name = 'SagaConcurrencyError';
}

export type SagaOutcome =
  | { applied: false; saga: Saga }
  | { applied: true; saga: Saga; from: SagaState; transition: SagaTransition };

/**
 * Load → apply a trigger → persist, inside the caller's transaction: the saga row (version
 * checked), one step per state passed, the order's prices, and the events it emits
 * (outbox). A trigger the transition table does not list for the current state is a late or
 * duplicate reply and changes nothing.
 */
@Injectable()
export class OrderSagaOrchestrator {
  private readonly logger = new Logger(OrderSagaOrchestrator.name);

  constructor(
    private readonly outbox: Outbox,
    @Inject(ORDER_CONFIG) private readonly config: OrderConfig,
  ) {}

  async apply(
    manager: EntityManager,
    orderId: string,
    trigger: SagaTrigger,
    cause?: EventEnvelope,
  ): Promise<SagaOutcome | undefined> {
    const saga = await manager.findOneBy(Saga, { orderId });
    if (!saga) {
      if (cause) throw new PermanentEventError(`no saga for order ${orderId}`);
      return undefined;
    }
    const transition = transitionFor(saga.state, trigger);
    if (!transition) {
      this.logger.log({
        msg: 'reply ignored: late or duplicate',
        sagaId: saga.id,
        state: saga.state,
        trigger,
      });
      return { applied: false, saga };
    }
    const from = saga.state;
    const now = new Date();
    const changes: Partial<Saga> = {
      state: transition.path[transition.path.length - 1],
      deadlineAt: this.deadline(transition.deadline, saga.deadlineAt, now),
      reason: transition.reason ?? saga.reason,
      updatedAt: now,
    };
    if (trigger === 'stock-reserved' && cause) {
      Object.assign(
        changes,
        await this.priceOrder(manager, orderId, cause as EventEnvelope<InventoryReservedV1Payload>),
      );
    }
    const updated = await manager.update(Saga, { id: saga.id, version: saga.version }, changes);
    if (updated.affected !== 1)
      throw new SagaConcurrencyError(`saga ${saga.id} changed concurrently`);
    Object.assign(saga, changes, { version: saga.version + 1 });

    await manager.insert(
      SagaStep,
      transition.path.map((to, i) => ({
        sagaId: saga.id,
        fromState: i === 0 ? from : transition.path[i - 1]!,
        toState: to,
        trigger: cause ? subjectFor(cause.eventName, cause.eventVersion) : trigger,
        eventId: cause?.eventId ?? null,
        reason: transition.reason ?? null,
      })),
    );
    if (transition.command)
      await this.outbox.add(manager, [this.event(transition.command, saga, cause)]);
    this.logger.log({
      msg: 'saga transition',
      sagaId: saga.id,
      orderId,
      from,
      to: saga.state,
      trigger,
      reason: transition.reason,
    });
    return { applied: true, saga, from, transition };
  }

  /** Counts a committed outcome; call after the transaction that applied it. */
  recordCommitted(outcome: SagaOutcome | undefined): void {
    if (!outcome?.applied || !isFinal(outcome.saga.state)) return;
    const { saga } = outcome;
    sagaMetrics.duration.observe(
      { state: saga.state },
      (Date.now() - saga.createdAt.getTime()) / 1000,
    );
    if (saga.state === 'COMPLETED') sagaMetrics.completed.inc();
    else if (saga.state === 'CANCELLED')
      sagaMetrics.compensated.inc({ reason: saga.reason ?? 'unknown' });
    else sagaMetrics.failed.inc();
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

  /** Inventory's catalogue prices become the order's: lines, total and the amount to collect. */
  private async priceOrder(
    manager: EntityManager,
    orderId: string,
    reserved: EventEnvelope<InventoryReservedV1Payload>,
  ): Promise<Partial<Saga>> {
    const { lines, totalMinor, currency, reservationId } = reserved.payload;
    for (const line of lines) {
      await manager.update(
        OrderLine,
        { orderId, sku: line.sku },
        { unitPriceMinor: line.unitPriceMinor },
      );
    }
    await manager.update(Order, { id: orderId }, { totalMinor });
    return { reservationId, amountMinor: totalMinor, currency };
  }

  private event(command: SagaCommand, saga: Saga, cause: EventEnvelope | undefined): EventEnvelope {
    const origin = {
      cause,
      correlationId: saga.correlationId,
      sagaId: saga.id,
      tenantId: saga.tenantId ?? undefined,
    };
    const orderId = saga.orderId;
    const reason = saga.reason ?? 'unknown';
    switch (command) {
      case 'request-payment':
        return createEvent(
          OrderPaymentRequestedV1,
          { orderId, amountMinor: saga.amountMinor ?? 0, currency: saga.currency },
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
    }
  }
}
