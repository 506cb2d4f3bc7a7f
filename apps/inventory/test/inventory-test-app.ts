import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  createEvent,
  EventEnvelope,
  OrderCreatedV1,
  OrderCreatedV1Payload,
  OrderLineV1,
} from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { freshSchema } from '../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { untilHandled, untilRelayed, untilSettled } from '../../../tests/harness/app-probes';
import { readStream } from '../../../tests/harness/streams';
import { publishEvent } from '../../../tests/harness/events';
import { bearer } from '../../../tests/harness/tokens';
import { ProductView } from '../src/products/products.service';
import { ReservationView } from '../src/reservations/reservations.service';
import { InventoryConfig } from '../src/config';
import { InventoryModule } from '../src/inventory.module';

/** The tenant of the orders `orderCreated` makes and of the products the suites stock. */
export const TENANT = 'tenant-1';

/** Request headers that carry a bearer token. */
export type Caller = { authorization: string };

/** A merchant of a tenant: who stocks its products. */
export const merchantOf = (tenantId: string): Promise<Caller> =>
  bearer(`merchant-of-${tenantId}`, ['merchant'], tenantId);

/** What an inventory suite drives: the app on a schema of its own, with a private NATS server. */
export interface InventoryTestApp {
  app: NestFastifyApplication;
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
  /** Every message the app dead-lettered. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Resolves once inventory's consumer of `subject` holds nothing unacked (untilSettled). */
  settled(subject: string): Promise<void>;
  /** PUTs a product as `as`: the merchant of TENANT unless given. */
  putProduct(sku: string, fields?: Partial<ProductFields>, as?: Caller): request.Test;
  /** Reads a product as `as`: the merchant of TENANT unless given. */
  product(sku: string, as?: Caller): Promise<ProductView>;
  /** Lists an order's reservations as `as`: an operator of TENANT unless given. */
  reservations(orderId: string, as?: Caller): Promise<ReservationView[]>;
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
  const config = testConfig(InventoryConfig, nats.env('inventory'), overrides);
  const app = await startPlatformApp(InventoryModule.forRoot(config, schema), 'inventory', config);
  const client = await nats.operator();
  const http = () => request(app.getHttpServer());
  const inventoryEvents = async () =>
    (await readStream(client.jsm, 'INVENTORY')).map((message) => message.body);
  const merchant = await merchantOf(TENANT);
  const operator = await bearer('operator-of-tenant-1', ['operator'], TENANT);

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
    async deadLetters() {
      return (await readStream<DeadLetter>(client.jsm, 'DLQ')).map((message) => message.body);
    },
    settled: (subject) => untilSettled(client.jsm, 'inventory', subject),
    putProduct(sku, fields = {}, as = merchant) {
      return http()
        .put(`/inventory/products/${sku}`)
        .set(as)
        .send({
          name: `Product ${sku}`,
          priceMinor: 1000,
          currency: 'EUR',
          stock: 10,
          lowStockThreshold: 0,
          ...fields,
        });
    },
    async product(sku, as = merchant) {
      const response = await http().get(`/inventory/products/${sku}`).set(as).expect(200);
      return response.body as ProductView;
    },
    async reservations(orderId, as = operator) {
      const response = await http()
        .get('/inventory/reservations')
        .set(as)
        .query({ orderId })
        .expect(200);
      return response.body as ReservationView[];
    },
    async close() {
      await app.close();
      await nats.destroy();
    },
  };
}

/** An order.created as the order app publishes it: its own conversation and saga, in a tenant. */
export function orderCreated(
  items: OrderLineV1[],
  currency = 'EUR',
  tenantId = TENANT,
): EventEnvelope<OrderCreatedV1Payload> {
  const orderId = randomUUID();
  return createEvent(
    OrderCreatedV1,
    { orderId, customerId: 'customer-1', currency, items },
    { correlationId: orderId, sagaId: randomUUID(), tenantId },
  );
}
