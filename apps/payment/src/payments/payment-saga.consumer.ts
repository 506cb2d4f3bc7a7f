import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  EventEnvelope,
  OrderCancelledV1,
  OrderCancelledV1Payload,
  OrderConfirmedV1,
  OrderConfirmedV1Payload,
  OrderPaymentRequestedV1,
  OrderPaymentRequestedV1Payload,
} from '@lib/contracts';
import { JetStreamContext } from '@lib/messaging';
import { PaymentsService } from './payments.service';

/**
 * The saga's requests to payment. While Stripe is down (its circuit open) the transport holds them
 * and hands them over once a probe answers; other transient failures are retried with back-off,
 * `order.cancelled` (a compensation) until it is done. A malformed event is dead-lettered.
 */
@Controller()
export class PaymentSagaConsumer {
  constructor(private readonly payments: PaymentsService) {}

  @EventPattern(OrderPaymentRequestedV1.subject)
  paymentRequested(
    @Payload() event: EventEnvelope<OrderPaymentRequestedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.payments.request(context, event);
  }

  @EventPattern(OrderCancelledV1.subject)
  orderCancelled(
    @Payload() event: EventEnvelope<OrderCancelledV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.payments.compensate(context, event);
  }

  @EventPattern(OrderConfirmedV1.subject)
  orderConfirmed(
    @Payload() event: EventEnvelope<OrderConfirmedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.payments.capture(context, event);
  }
}
