import { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  createEvent,
  EventEnvelope,
  OrderCreatedV1,
  OrderCreatedV1Payload,
  OrderLineV1,
} from '@lib/contracts';
import { NatsClient } from '@lib/messaging';
import { freshSchema } from '../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { untilHandled, untilRelayed } from '../../../tests/harness/app-probes';
import { readStream } from '../../../tests/harness/streams';
import { publishEvent } from '../../../tests/harness/events';
import { ProductView } from '../src/products/products.service';
import { InventoryConfig } from '../src/config';
import { InventoryModule } from '../src/inventory.module';

/** What an inventory suite drives: the app on a schema of its own, with a private NATS server. */
export interface InventoryTestApp {
  app: NestExpressApplication;
  http: () => ReturnType<typeof request>;
  /** Publishes an event as the order app would; `asCopy` publishes it again under a new id. */
  publish(event: EventEnvelope, options?: { asCopy?: boolean }): Promise<number>;
  /** Resolves once the inventory consumer has handled the message at this stream sequence. */
  handled(subject: string, seq: number): Promise<void>;
  /** Resolves once every event the app committed is on its stream. */
  relayed(): Promise<void>;
  /** Every event inventory published about this order. */
  eventsFor(orderId: string): Promise<EventEnvelope[]>;
  inventoryEvents(): Promise<EventEnvelope[]>;
  putProduct(sku: string, fields?: Partial<ProductFields>): request.Test;
  product(sku: string): Promise<ProductView>;
  close(): Promise<void>;
}

export interface ProductFields {
  name: string;
  priceMinor: number;
  currency: string;
  stock: number;
  lowStockThreshold: number;
}

export async function startInventoryTestApp(
  schema: string,
  overrides: Record<string, string> = {},
): Promise<InventoryTestApp> {
  const nats: TestNatsServer = await startNatsServer();
  await freshSchema(schema);
  const config = testConfig(InventoryConfig, nats.url, overrides);
  const app = await startPlatformApp(InventoryModule.forRoot(config, schema), 'inventory', config);
  const client = app.get(NatsClient);
  const http = () => request(app.getHttpServer());
  const inventoryEvents = async () =>
    (await readStream(client.jsm, 'INVENTORY')).map((message) => message.body);

  return {
    app,
    http,
    publish: (event, options) => publishEvent(client.js, event, options),
    handled: (subject, seq) => untilHandled(client.jsm, 'inventory', subject, seq),
    relayed: () => untilRelayed(schema),
    async eventsFor(orderId) {
      return (await inventoryEvents()).filter(
        (event) => (event.payload as { orderId?: string }).orderId === orderId,
      );
    },
    inventoryEvents,
    putProduct(sku, fields = {}) {
      return http()
        .put(`/inventory/products/${sku}`)
        .send({
          name: `Product ${sku}`,
          priceMinor: 1000,
          currency: 'EUR',
          stock: 10,
          lowStockThreshold: 0,
          ...fields,
        });
    },
    async product(sku) {
      return (await http().get(`/inventory/products/${sku}`).expect(200)).body as ProductView;
    },
    async close() {
      await app.close();
      await nats.destroy();
    },
  };
}

/** An order.created as the order app publishes it: its own conversation and saga. */
export function orderCreated(
  items: OrderLineV1[],
  currency = 'EUR',
): EventEnvelope<OrderCreatedV1Payload> {
  const orderId = randomUUID();
  return createEvent(
    OrderCreatedV1,
    { orderId, customerId: 'customer-1', currency, items },
    { correlationId: orderId, sagaId: randomUUID(), tenantId: 'tenant-1' },
  );
}
