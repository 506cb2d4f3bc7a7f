import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EntityManager } from 'typeorm';
import {
  EventEnvelope,
  OrderCancelledV1,
  OrderCancelledV1Payload,
  OrderConfirmedV1,
  OrderConfirmedV1Payload,
  OrderCreatedV1,
  OrderCreatedV1Payload,
} from '@lib/contracts';
import { Inbox, JetStreamContext } from '@lib/messaging';
import { recordPublished } from '../inventory.metrics';
import { ReservationsService } from './reservations.service';

/** The order events inventory answers, each applied once (inbox) in one transaction. */
@Controller()
export class StockReservationsConsumer {
  constructor(
    private readonly inbox: Inbox,
    private readonly reservations: ReservationsService,
  ) {}

  @EventPattern(OrderCreatedV1.subject)
  orderCreated(
    @Payload() event: EventEnvelope<OrderCreatedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.apply(context, event, (manager) => this.reservations.reserve(manager, event));
  }

  @EventPattern(OrderCancelledV1.subject)
  orderCancelled(
    @Payload() event: EventEnvelope<OrderCancelledV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.apply(context, event, (manager) => this.reservations.cancel(manager, event));
  }

  @EventPattern(OrderConfirmedV1.subject)
  orderConfirmed(
    @Payload() event: EventEnvelope<OrderConfirmedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.apply(context, event, (manager) => this.reservations.commit(manager, event));
  }

  private async apply(
    context: JetStreamContext,
    event: EventEnvelope,
    effect: (manager: EntityManager) => Promise<EventEnvelope[]>,
  ): Promise<void> {
    recordPublished((await this.inbox.handleOnce(context, event, effect)) ?? []);
  }
}
