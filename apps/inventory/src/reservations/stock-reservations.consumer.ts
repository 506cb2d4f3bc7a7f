import { Controller, Inject } from '@nestjs/common';
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
import {
  Batcher,
  batchWindow,
  Inbox,
  JetStreamContext,
  MESSAGING_OPTIONS,
  MessagingOptions,
  wholeBatch,
} from '@lib/messaging';
import { recordPublished } from '../inventory.metrics';
import { ReservationsService } from './reservations.service';

type OrderEvent = EventEnvelope<{ orderId: string }>;

interface Delivery<E extends OrderEvent> {
  context: JetStreamContext;
  event: E;
}

/**
 * The order events inventory answers, each applied once (inbox). The deliveries of one subject that
 * arrive together share a transaction (Batcher); two events of one order never share one.
 */
@Controller()
export class StockReservationsConsumer {
  private readonly created: Batcher<Delivery<EventEnvelope<OrderCreatedV1Payload>>, void>;
  private readonly cancelled: Batcher<Delivery<EventEnvelope<OrderCancelledV1Payload>>, void>;
  private readonly confirmed: Batcher<Delivery<EventEnvelope<OrderConfirmedV1Payload>>, void>;

  constructor(
    private readonly inbox: Inbox,
    reservations: ReservationsService,
    @Inject(MESSAGING_OPTIONS) private readonly messaging: MessagingOptions,
  ) {
    this.created = this.batcher((manager, events) => reservations.reserve(manager, events));
    this.cancelled = this.batcher((manager, events) => reservations.cancel(manager, events));
    this.confirmed = this.batcher((manager, events) => reservations.commit(manager, events));
  }

  @EventPattern(OrderCreatedV1.subject)
  orderCreated(
    @Payload() event: EventEnvelope<OrderCreatedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.created.apply({ context, event });
  }

  @EventPattern(OrderCancelledV1.subject)
  orderCancelled(
    @Payload() event: EventEnvelope<OrderCancelledV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.cancelled.apply({ context, event });
  }

  @EventPattern(OrderConfirmedV1.subject)
  orderConfirmed(
    @Payload() event: EventEnvelope<OrderConfirmedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.confirmed.apply({ context, event });
  }

  private batcher<E extends OrderEvent>(
    effect: (manager: EntityManager, events: E[]) => Promise<EventEnvelope[]>,
  ): Batcher<Delivery<E>, void> {
    return new Batcher(
      wholeBatch(async (deliveries: Delivery<E>[]) => {
        recordPublished((await this.inbox.handleAllOnce(deliveries, effect)) ?? []);
      }),
      ({ event }) => event.payload.orderId,
      batchWindow(this.messaging),
    );
  }
}
