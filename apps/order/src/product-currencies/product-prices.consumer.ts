import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  EventEnvelope,
  InventoryProductPricedV1,
  InventoryProductPricedV1Payload,
} from '@lib/contracts';
import { Inbox, JetStreamContext } from '@lib/messaging';
import { ProductCurrencies } from './product-currencies';

/** The catalogue's price announcements, each recorded once (inbox). */
@Controller()
export class ProductPricesConsumer {
  constructor(
    private readonly inbox: Inbox,
    private readonly currencies: ProductCurrencies,
  ) {}

  @EventPattern(InventoryProductPricedV1.subject)
  async productPriced(
    @Payload() event: EventEnvelope<InventoryProductPricedV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    await this.inbox.handleOnce(context, event, (manager) =>
      this.currencies.record(manager, event),
    );
  }
}
