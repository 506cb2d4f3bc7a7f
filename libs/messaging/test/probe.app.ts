import { Controller, DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  EventEnvelope,
  InventoryCommittedV1,
  InventoryLowStockV1,
  InventoryLowStockV1Payload,
  OrderCancelledV1,
  OrderCancelledV1Payload,
} from '@lib/contracts';
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
 * ACK-LOST commits its effect and then fails once, HOLD waits for `releaseHeld()` first; anything
 * else just records its effect. Effects go to `<schema>.effects` through the inbox. A second
 * consumer (inventory.committed) only holds. A third, of a compensation (order.cancelled), goes by
 * the reason: `fail-<n>` fails its first n deliveries, `permanent` fails for good; its effect is
 * recorded under the SKU `cancel:<orderId>`.
 */
@Injectable()
export class Probe {
  readonly deliveries: Delivery[] = [];
  private readonly held: (() => void)[] = [];
  /** The most handlers held at once, over both consumers. */
  maxHeld = 0;
  released = 0;
  /** Set by `stopHolding`: a suite that ends lets every handler finish, so the app can close. */
  private holding = true;

  constructor(
    private readonly inbox: Inbox,
    @Inject(PROBE_SCHEMA) private readonly schema: string,
  ) {}

  async handle(
    event: EventEnvelope<InventoryLowStockV1Payload>,
    context: JetStreamContext,
  ): Promise<void> {
    const { sku } = event.payload;
    this.record(sku, event, context);
    if (sku.startsWith('FLAKY') && context.deliveryCount < 3) throw new Error('database hiccup');
    if (sku.startsWith('BROKEN')) throw new Error('always broken');
    if (sku.startsWith('PERMANENT')) throw new PermanentEventError('order does not exist');
    if (sku.startsWith('HOLD')) await this.hold();
    await this.effect(sku, event, context);
    if (sku.startsWith('ACK-LOST') && context.deliveryCount === 1)
      throw new Error('connection reset');
  }

  async compensate(
    event: EventEnvelope<OrderCancelledV1Payload>,
    context: JetStreamContext,
  ): Promise<void> {
    const { orderId, reason } = event.payload;
    const sku = `cancel:${orderId}`;
    this.record(sku, event, context);
    const failures = Number(/^fail-(\d+)$/.exec(reason)?.[1] ?? 0);
    if (context.deliveryCount <= failures) throw new Error('refund refused for now');
    if (reason === 'permanent') throw new PermanentEventError('no payment for that order');
    await this.effect(sku, event, context);
  }

  private record(sku: string, event: EventEnvelope, context: JetStreamContext): void {
    this.deliveries.push({
      sku,
      eventId: event.eventId,
      deliveryCount: context.deliveryCount,
      streamSequence: context.streamSequence,
      at: Date.now(),
    });
  }

  private async effect(sku: string, event: EventEnvelope, context: JetStreamContext) {
    await this.inbox.handleOnce(context, event, async (manager) => {
      await manager.query(`INSERT INTO ${this.schema}.effects (event_id, sku) VALUES ($1, $2)`, [
        event.eventId,
        sku,
      ]);
    });
  }

  hold(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.held.push(resolve);
      this.maxHeld = Math.max(this.maxHeld, this.held.length);
    });
  }

  get heldNow(): number {
    return this.held.length;
  }

  releaseHeld(): void {
    for (const release of this.held.splice(0)) {
      this.released++;
      release();
    }
  }

  stopHolding(): void {
    this.holding = false;
    this.releaseHeld();
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

  @EventPattern(InventoryCommittedV1.subject)
  onCommitted(): Promise<void> {
    return this.probe.hold();
  }

  @EventPattern(OrderCancelledV1.subject)
  onCancelled(
    @Payload() event: EventEnvelope<OrderCancelledV1Payload>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    return this.probe.compensate(event, context);
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
