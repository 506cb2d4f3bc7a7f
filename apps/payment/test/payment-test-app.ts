import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  createEvent,
  EventEnvelope,
  OrderPaymentRequestedV1,
  OrderPaymentRequestedV1Payload,
  streamForSubject,
} from '@lib/contracts';
import { freshSchema } from '../../../tests/harness/database';
import { publishEvent } from '../../../tests/harness/events';
import { ConsumerInfo } from '@nats-io/jetstream';
import { DeadLetter, durableName } from '@lib/messaging';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { untilHandled, untilRelayed, untilSettled } from '../../../tests/harness/app-probes';
import { readStream } from '../../../tests/harness/streams';
import { bearer, OPERATOR } from '../../../tests/harness/tokens';
import { eventually } from '../../../tests/harness/wait';
import { StripeLocalClient } from '../../../tools/stripe-local/stripe-local.client';
import { startStripeLocal, StripeLocal } from '../../../tools/stripe-local/stripe-local.server';
import { PaymentConfig } from '../src/config';
import { PaymentModule } from '../src/payment.module';
import { PaymentView } from '../src/payments/payments.service';

export const WEBHOOK_SECRET = 'whsec_payment_test';
/** The tenant and customer of the payments `paymentRequested` makes unless told otherwise. */
export const TENANT = 'tenant-1';
export const CUSTOMER = 'customer-1';

/** An operator of the suites' tenant: reads every payment of it. */
export const asTenantOperator = () => bearer(OPERATOR.sub, OPERATOR.roles, TENANT);

/** What a payment suite drives: the app on its own schema and port, a private NATS, stripe-local. */
export interface PaymentTestApp {
  app: NestFastifyApplication;
  stripeLocal: StripeLocal;
  stripe: StripeLocalClient;
  http: () => ReturnType<typeof request>;
  /** Publishes an event as the order app would; `asCopy` publishes it again under a new id. */
  publish(event: EventEnvelope, options?: { asCopy?: boolean }): Promise<number>;
  /** Resolves once the payment consumer has handled the message at this stream sequence. */
  handled(subject: string, seq: number): Promise<void>;
  /** Resolves once every event the app committed is on its stream. */
  relayed(): Promise<void>;
  /** Every payment event about this order, oldest first. */
  eventsFor(orderId: string): Promise<EventEnvelope[]>;
  /** Every dead letter, oldest first (read as the operator: the app may not). */
  deadLetters(): Promise<DeadLetter[]>;
  /** Resolves once payment's consumer of `subject` holds nothing unacked (untilSettled). */
  settled(subject: string): Promise<void>;
  /** What the server knows of payment's consumer of `subject` (deliveries, pending acks). */
  consumer(subject: string): Promise<ConsumerInfo>;
  /** Waits for the order's payment to reach a status (read as the tenant's operator). */
  untilStatus(orderId: string, status: string): Promise<PaymentView>;
  /** The order's payment, read as the tenant's operator. */
  payment(orderId: string): Promise<PaymentView>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export async function startPaymentTestApp(
  schema: string,
  overrides: Record<string, string> = {},
): Promise<PaymentTestApp> {
  const nats: TestNatsServer = await startNatsServer();
  const stripeLocal = await startStripeLocal({
    port: 0,
    host: '127.0.0.1',
    webhookSecret: WEBHOOK_SECRET,
    webhookRetryDelaysMs: [100, 200, 400],
  });
  await freshSchema(schema);
  const config = testConfig(PaymentConfig, nats.env('payment'), {
    STRIPE_SECRET_KEY: 'sk_test_payment_suite',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...stripeLocal.sdkEnv,
    ...overrides,
  });
  const app = await startPlatformApp(PaymentModule.forRoot(config, schema), 'payment', config);
  // Stripe needs a URL to deliver to: the suite's app listens on a free port.
  await app.listen(0, '127.0.0.1');
  const stripe = new StripeLocalClient(stripeLocal.url);
  await stripe.setWebhookEndpoint(`${await app.getUrl()}/webhooks/stripe`, WEBHOOK_SECRET);
  const client = await nats.operator();
  const http = () => request(app.getHttpServer());
  const operator = await asTenantOperator();
  const read = (orderId: string) => http().get(`/payments/${orderId}`).set(operator);
  const payment = async (orderId: string) => (await read(orderId).expect(200)).body as PaymentView;

  return {
    app,
    stripeLocal,
    stripe,
    http,
    publish: (event, options) => publishEvent(client.js, event, options),
    handled: (subject, seq) => untilHandled(client.jsm, 'payment', subject, seq),
    settled: (subject) => untilSettled(client.jsm, 'payment', subject),
    consumer: (subject) =>
      client.jsm.consumers.info(streamForSubject(subject).name, durableName('payment', subject)),
    relayed: () => untilRelayed(schema),
    async deadLetters() {
      return (await readStream<DeadLetter>(client.jsm, 'DLQ')).map((message) => message.body);
    },
    async eventsFor(orderId) {
      return (await readStream(client.jsm, 'PAYMENTS'))
        .map((message) => message.body)
        .filter((event) => (event.payload as { orderId?: string }).orderId === orderId);
    },
    untilStatus: (orderId, status) =>
      eventually(
        async () => {
          const response = await read(orderId);
          const view = response.body as PaymentView;
          return response.status === 200 && view.status === status ? view : undefined;
        },
        { what: `the payment of ${orderId} to be ${status}` },
      ),
    payment,
    metrics: async () => (await http().get('/metrics').expect(200)).text,
    async close() {
      await app.close();
      await stripeLocal.stop();
      await nats.destroy();
    },
  };
}

/**
 * An order.payment-requested as the saga publishes it: its own order, conversation and saga, for
 * `CUSTOMER` of `TENANT` unless `owner` says otherwise (undefined fields are left out, as a request
 * published before they existed).
 */
export function paymentRequested(
  amountMinor = 4200,
  currency = 'EUR',
  owner: { customerId?: string; tenantId?: string } = { customerId: CUSTOMER, tenantId: TENANT },
): EventEnvelope<OrderPaymentRequestedV1Payload> {
  const orderId = randomUUID();
  const { customerId, tenantId } = owner;
  return createEvent(
    OrderPaymentRequestedV1,
    { orderId, amountMinor, currency, ...(customerId !== undefined && { customerId }) },
    { correlationId: orderId, sagaId: randomUUID(), tenantId },
  );
}
