import { Controller, DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventEnvelope, InventoryLowStockV1, InventoryLowStockV1Payload } from '@lib/contracts';
import { BaseConfig, PlatformModule } from '@lib/platform';
import { Inbox, JetStreamContext, PermanentEventError } from '../src';

export interface Delivery {
  sku: string;
  eventId: string;
  deliveryCount: number;
  streamSequence: number;
  at: number;
}

const PROBE_SCHEMA = Symbol('PROBE_SCHEMA');

/**
 * A consumer for the messaging tests. What it does is chosen by the SKU of the event:
 * FLAKY fails its first two deliveries, BROKEN always fails, PERMANENT fails permanently,
 * ACK-LOST commits its effect and then fails once; anything else just records its effect.
 * Effects go to `<schema>.effects` through the inbox.
 */
@Injectable()
export class Probe {
  readonly deliveries: Delivery[] = [];

  constructor(
    private readonly inbox: Inbox,
    @Inject(PROBE_SCHEMA) private readonly schema: string,
  ) {}

  async handle(
    event: EventEnvelope<InventoryLowStockV1Payload>,
    context: JetStreamContext,
  ): Promise<void> {
    const { sku } = event.payload;
    this.deliveries.push({
      sku,
      eventId: event.eventId,
      deliveryCount: context.deliveryCount,
      streamSequence: context.streamSequence,
      at: Date.now(),
    });
    if (sku.startsWith('FLAKY') && context.deliveryCount < 3) throw new Error('database hiccup');
    if (sku.startsWith('BROKEN')) throw new Error('always broken');
    if (sku.startsWith('PERMANENT')) throw new PermanentEventError('order does not exist');
    await this.inbox.handleOnce(context, event, async (manager) => {
      await manager.query(`INSERT INTO ${this.schema}.effects (event_id, sku) VALUES ($1, $2)`, [
        event.eventId,
        sku,
      ]);
    });
    if (sku.startsWith('ACK-LOST') && context.deliveryCount === 1)
      throw new Error('connection reset');
  }

  of(sku: string): Delivery[] {
    return this.deliveries.filter((d) => d.sku === sku);
  }
}

@Controller()
class ProbeHandlers {
  constructor(private readonly probe: Probe) {}

  @EventPattern(InventoryLowStockV1.subject)
  onLowStock(
    @Payload() event: EventEnvelope<InventoryLowStockV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.probe.handle(event, context);
  }
}

@Module({})
export class ProbeModule {
  static forRoot(service: string, schema: string, config: BaseConfig): DynamicModule {
    return {
      module: ProbeModule,
      imports: [PlatformModule.forRoot({ service, schema, config })],
      controllers: [ProbeHandlers],
      providers: [Probe, { provide: PROBE_SCHEMA, useValue: schema }],
    };
  }
}

export const EFFECTS_TABLE_SQL = (schema: string) =>
  `CREATE TABLE ${schema}.effects (event_id uuid NOT NULL, sku text NOT NULL)`;
