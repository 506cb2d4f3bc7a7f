import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  EventEnvelope,
  InventoryOutOfStockV1,
  InventoryReleasedV1,
  InventoryReleasedV1Payload,
  InventoryReservedV1,
  PaymentFailedV1,
  PaymentPendingV1,
  PaymentSucceededV1,
} from '@lib/contracts';
import { JetStreamContext } from '@lib/messaging';
import { SagaTrigger } from './order-saga.state';
import { SagaReplyBatcher } from './saga-reply.batcher';

type OrderReply = EventEnvelope<{ orderId: string }>;

/** The participants' replies, each applied to its saga once (inbox), in batches (SagaReplyBatcher). */
@Controller()
export class SagaEventsConsumer {
  constructor(private readonly replies: SagaReplyBatcher) {}

  @EventPattern(InventoryReservedV1.subject)
  stockReserved(@Payload() event: OrderReply, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply('stock-reserved', event, context);
  }

  @EventPattern(InventoryOutOfStockV1.subject)
  outOfStock(@Payload() event: OrderReply, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply('out-of-stock', event, context);
  }

  @EventPattern(InventoryReleasedV1.subject)
  stockReleased(
    @Payload() event: EventEnvelope<InventoryReleasedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.apply(
      event.payload.reason === 'expired' ? 'stock-expired' : 'stock-released',
      event,
      context,
    );
  }

  @EventPattern(PaymentPendingV1.subject)
  paymentPending(@Payload() event: OrderReply, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply('payment-pending', event, context);
  }

  @EventPattern(PaymentSucceededV1.subject)
  paymentSucceeded(@Payload() event: OrderReply, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply('payment-succeeded', event, context);
  }

  @EventPattern(PaymentFailedV1.subject)
  paymentFailed(@Payload() event: OrderReply, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply('payment-failed', event, context);
  }

  /** A version conflict throws: the transport retries the reply after a delay (nak). */
  private async apply(
    trigger: SagaTrigger,
    event: OrderReply,
    context: JetStreamContext,
  ): Promise<void> {
    const outcome = await this.replies.apply({
      orderId: event.payload.orderId,
      trigger,
      cause: event,
      inbox: { consumer: context.consumer, eventId: event.eventId },
    });
    if (!outcome.applied && outcome.duplicate) context.duplicate = true;
  }
}
