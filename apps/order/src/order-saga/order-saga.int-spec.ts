import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  createEvent,
  EventEnvelope,
  InventoryOutOfStockV1,
  InventoryReleasedV1,
  InventoryReservedV1,
  PaymentFailedV1,
  PaymentPendingV1,
  PaymentSucceededV1,
} from '@lib/contracts';
import { DeadLetter, messagingMetrics, RejectedEventError } from '@lib/messaging';
import { freshSchema, query } from '../../../../tests/harness/database';
import { untilHandled, untilRelayed } from '../../../../tests/harness/app-probes';
import { publishEvent } from '../../../../tests/harness/events';
import {
  JetStreamClients,
  startNatsServer,
  TestNatsServer,
} from '../../../../tests/harness/nats-server';
import { startPlatformApp, testConfig } from '../../../../tests/harness/platform-app';
import { readStream } from '../../../../tests/harness/streams';
import { bearer } from '../../../../tests/harness/tokens';
import { eventually } from '../../../../tests/harness/wait';
import { metricValue } from '../../../../tests/harness/metrics';
import { OrderConfig } from '../config';
import { OrderModule } from '../order.module';
import { sagaMetrics } from './order-saga.metrics';
import { OrderSagaOrchestrator } from './order-saga.orchestrator';
import { SagaTrigger } from './order-saga.state';
import { SagaReplyBatcher } from './saga-reply.batcher';
import { SagaChange, SagaConcurrencyError, SagaRepository } from './saga.repository';

const SCHEMA = 'order_saga_test';
/** The tenant of the customer who places every order here, and the saga lookups' scope. */
const TENANT = 't-saga';
const IN_TENANT = { tenantId: TENANT };

/** The order app alone: the tests answer for inventory and payment. */
describe('OrderSaga in the order app', () => {
  let nats: TestNatsServer;
  let app: NestFastifyApplication;
  let client: JetStreamClients;
  let http: ReturnType<NestFastifyApplication['getHttpServer']>;
  let customer: { authorization: string };

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    const config = testConfig(OrderConfig, nats.env('order'), {
      SAGA_STOCK_TIMEOUT_MS: '1500',
      SAGA_COMPENSATION_TIMEOUT_MS: '1500',
      SAGA_DEADLINE_SCAN_MS: '100',
    });
    app = await startPlatformApp(OrderModule.forRoot(config, SCHEMA), 'order', config);
    client = await nats.operator();
    http = app.getHttpServer();
    customer = await bearer('c-1', ['customer'], TENANT);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
  });

  const body = (sku = 'SKU-1', quantity = 2) => ({ items: [{ sku, quantity }] });

  async function place(payload: object = body()): Promise<{ orderId: string; sagaId: string }> {
    const res = await request(http).post('/orders').set(customer).send(payload).expect(202);
    return res.body as { orderId: string; sagaId: string };
  }

  async function order(orderId: string) {
    return (await request(http).get(`/orders/${orderId}`).set(customer).expect(200)).body as {
      status: string;
      totalMinor: number | null;
      lines: { sku: string; quantity: number; unitPriceMinor: number | null }[];
      saga: {
        state: string;
        version: number;
        reason: string | null;
        steps: { from: string | null; to: string; trigger: string }[];
      };
    };
  }

  async function until(orderId: string, state: string) {
    return eventually(
      async () => {
        const current = await order(orderId);
        return current.saga.state === state ? current : undefined;
      },
      { what: `saga of ${orderId} to reach ${state}` },
    );
  }

  async function orderEvents(orderId: string, subject?: string) {
    return (
      await readStream<EventEnvelope<{ orderId: string }>>(client.jsm, 'ORDERS', subject)
    ).filter((m) => m.body.payload.orderId === orderId);
  }

  async function created(orderId: string): Promise<EventEnvelope> {
    const [event] = await eventually(async () => {
      const events = await orderEvents(orderId, 'order.created.v1');
      return events.length > 0 ? events : undefined;
    });
    return event!.body;
  }

  async function reserve(orderId: string, cause: EventEnvelope): Promise<EventEnvelope> {
    const event = createEvent(
      InventoryReservedV1,
      {
        orderId,
        reservationId: randomUUID(),
        lines: [{ sku: 'SKU-1', quantity: 2, unitPriceMinor: 1250 }],
        totalMinor: 2500,
        currency: 'EUR',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      },
      { cause },
    );
    await publishEvent(client.js, event);
    return event;
  }

  /** An order whose stock inventory (played by the test) has reserved. */
  async function placeReserved(): Promise<string> {
    const { orderId } = await place();
    await reserve(orderId, await created(orderId));
    await until(orderId, 'STOCK_RESERVED');
    return orderId;
  }

  const paymentSucceeded = (orderId: string, ids = paymentIds()) =>
    createEvent(
      PaymentSucceededV1,
      { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
      IN_TENANT,
    );

  const paymentIds = () => ({ paymentId: randomUUID(), paymentIntentId: `pi_${randomUUID()}` });

  it('prices the order from the reservation, requests payment, and confirms once paid', async () => {
    const { orderId, sagaId } = await place();
    const createdEvent = await created(orderId);
    expect(createdEvent).toMatchObject({
      sagaId,
      correlationId: orderId,
      tenantId: TENANT,
      payload: { customerId: 'c-1', items: [{ sku: 'SKU-1', quantity: 2 }] },
    });

    await reserve(orderId, createdEvent);
    const reserved = await until(orderId, 'STOCK_RESERVED');
    expect(reserved).toMatchObject({
      totalMinor: 2500,
      lines: [{ sku: 'SKU-1', quantity: 2, unitPriceMinor: 1250 }],
    });
    const [requested] = await eventually(async () => {
      const events = await orderEvents(orderId, 'order.payment-requested.v1');
      return events.length > 0 ? events : undefined;
    });
    // The payment participant shows the payment to this customer only.
    expect(requested!.body).toMatchObject({
      sagaId,
      correlationId: orderId,
      tenantId: TENANT,
      payload: { orderId, customerId: 'c-1', amountMinor: 2500, currency: 'EUR' },
    });

    const ids = paymentIds();
    await publishEvent(
      client.js,
      createEvent(
        PaymentPendingV1,
        { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
        { cause: requested!.body },
      ),
    );
    await until(orderId, 'PAYMENT_PENDING');
    await publishEvent(
      client.js,
      createEvent(
        PaymentSucceededV1,
        { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
        { cause: requested!.body },
      ),
    );
    const done = await until(orderId, 'COMPLETED');
    expect(done.status).toBe('CONFIRMED');
    expect(done.saga.steps.map((s) => s.to)).toEqual([
      'STARTED',
      'STOCK_RESERVED',
      'PAYMENT_PENDING',
      'COMPLETED',
    ]);
    expect(done.saga.steps.map((s) => s.trigger)).toEqual([
      'order.created.v1',
      'inventory.reserved.v1',
      'payment.pending.v1',
      'payment.succeeded.v1',
    ]);
    const [confirmed] = await eventually(async () => {
      const events = await orderEvents(orderId, 'order.confirmed.v1');
      return events.length === 1 ? events : undefined;
    });
    expect(confirmed!.body.tenantId).toBe(TENANT);
  });

  it('cancels an out-of-stock order without ever requesting payment', async () => {
    const { orderId } = await place();
    const cause = await created(orderId);
    await publishEvent(
      client.js,
      createEvent(
        InventoryOutOfStockV1,
        { orderId, missing: [{ sku: 'SKU-1', requested: 2, available: 0 }] },
        { cause },
      ),
    );
    const cancelled = await until(orderId, 'CANCELLED');
    expect(cancelled).toMatchObject({ status: 'CANCELLED', saga: { reason: 'out-of-stock' } });
    expect(cancelled.saga.steps.map((s) => s.to)).toEqual(['STARTED', 'STOCK_FAILED', 'CANCELLED']);
    await untilRelayed(SCHEMA);
    const cancelEvents = await orderEvents(orderId, 'order.cancelled.v1');
    expect(cancelEvents.map((m) => m.body.payload)).toEqual([{ orderId, reason: 'out-of-stock' }]);
    expect(cancelEvents.map((m) => m.body.tenantId)).toEqual([TENANT]);
    expect(await orderEvents(orderId, 'order.payment-requested.v1')).toEqual([]);
  });

  it('applies a duplicated reply once, whether redelivered or re-published', async () => {
    const { orderId } = await place();
    const reserved = await reserve(orderId, await created(orderId));
    await publishEvent(client.js, reserved, { asCopy: true });
    await publishEvent(client.js, reserved, { asCopy: true });
    await until(orderId, 'STOCK_RESERVED');
    // A later reply proves the copies were handled before we look.
    await publishEvent(
      client.js,
      createEvent(
        PaymentPendingV1,
        { orderId, ...paymentIds(), amountMinor: 2500, currency: 'EUR' },
        IN_TENANT,
      ),
    );
    const pending = await until(orderId, 'PAYMENT_PENDING');
    expect(pending.saga.steps.filter((s) => s.to === 'STOCK_RESERVED')).toHaveLength(1);
    expect(await orderEvents(orderId, 'order.payment-requested.v1')).toHaveLength(1);
  });

  it('settles two racing replies by the version check: one wins, nothing is lost', async () => {
    const orderId = await placeReserved();
    const ids = paymentIds();
    await Promise.all([
      publishEvent(
        client.js,
        createEvent(
          PaymentSucceededV1,
          { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
          IN_TENANT,
        ),
      ),
      publishEvent(
        client.js,
        createEvent(
          PaymentPendingV1,
          { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
          IN_TENANT,
        ),
      ),
      publishEvent(
        client.js,
        createEvent(PaymentFailedV1, { orderId, ...ids, reason: 'declined' }, IN_TENANT),
      ),
    ]);
    const final = await eventually(async () => {
      const current = await order(orderId);
      return ['COMPLETED', 'COMPENSATING'].includes(current.saga.state) ? current : undefined;
    });
    // Every step hangs off the one before it: no transition was applied to a stale state.
    const steps = final.saga.steps;
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.from).toBe(steps[i - 1]!.to);
    expect(final.saga.version).toBe(
      steps.filter((s) => s.from !== null).length - extraTransientSteps(steps) + 1,
    );
  });

  it('cancels when inventory never answers before the stock deadline', async () => {
    const { orderId } = await place();
    const cancelled = await until(orderId, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('stock-timeout');
    expect(cancelled.saga.steps.at(-1)).toMatchObject({
      from: 'STARTED',
      to: 'CANCELLED',
      trigger: 'deadline',
    });
  });

  it('fails for an operator when the stock release is never confirmed, and publishes order.failed', async () => {
    const orderId = await placeReserved();
    await publishEvent(
      client.js,
      createEvent(
        PaymentFailedV1,
        { orderId, reason: 'declined', code: 'card_declined' },
        IN_TENANT,
      ),
    );
    await until(orderId, 'COMPENSATING');
    const failed = await until(orderId, 'FAILED');
    expect(failed.status).toBe('FAILED');
    // order.failed commits with the transition; the relay publishes it just after.
    await untilRelayed(SCHEMA);
    expect((await orderEvents(orderId, 'order.failed.v1')).map((m) => m.body.payload)).toEqual([
      { orderId, reason: 'stock release not confirmed in time' },
    ]);
  });

  it('ends cancelled once inventory confirms the release, and sends the cancel again for a late payment', async () => {
    const { orderId } = await place();
    const reserved = await reserve(orderId, await created(orderId));
    await until(orderId, 'STOCK_RESERVED');
    await request(http)
      .post(`/orders/${orderId}/cancel`)
      .set(customer)
      .expect(202, { orderId, status: 'CANCELLING', sagaState: 'COMPENSATING' });
    await request(http).post(`/orders/${orderId}/cancel`).set(customer).expect(202);
    const { reservationId } = (reserved as EventEnvelope<{ reservationId: string }>).payload;
    await publishEvent(
      client.js,
      createEvent(InventoryReleasedV1, { orderId, reservationId, reason: 'cancelled' }, IN_TENANT),
    );
    const paid = paymentSucceeded(orderId);
    await publishEvent(client.js, paid);
    const cancelled = await until(orderId, 'CANCELLED');
    expect(cancelled.saga.reason).toBe('customer');
    // Whether the money arrived while compensating or after: payment is told again to refund it.
    const cancels = await eventually(async () => {
      const events = await orderEvents(orderId, 'order.cancelled.v1');
      return events.length === 2 ? events : undefined;
    });
    expect(cancels.map((m) => m.body.payload)).toEqual([
      { orderId, reason: 'customer' },
      { orderId, reason: 'customer' },
    ]);
    expect(cancels[1]!.body.causationId).toBe(paid.eventId);
    expect(await orderEvents(orderId, 'order.confirmed.v1')).toEqual([]);
  });

  it('sends the compensation again, once, when a FAILED saga hears that the money moved', async () => {
    const orderId = await placeReserved();
    await publishEvent(
      client.js,
      createEvent(PaymentFailedV1, { orderId, reason: 'declined' }, IN_TENANT),
    );
    await until(orderId, 'FAILED');
    const late = () => metricValue(sagaMetrics.latePayments);
    const before = await late();
    const paid = paymentSucceeded(orderId);
    await publishEvent(client.js, paid);
    // A redelivery, and a copy re-published under another message id: the inbox stops both.
    await untilHandled(
      client.jsm,
      'order',
      PaymentSucceededV1.subject,
      await publishEvent(client.js, paid, { asCopy: true }),
    );
    await untilRelayed(SCHEMA);
    const cancels = (await orderEvents(orderId, 'order.cancelled.v1')).map((m) => m.body);
    expect(cancels.map((e) => e.causationId)).toEqual([expect.any(String), paid.eventId]);
    const failed = await order(orderId);
    expect(failed.saga.state).toBe('FAILED');
    // The saga keeps its reason, which the cancel sent again carries.
    expect(failed.saga.reason).toBe('stock release not confirmed in time');
    expect(cancels[1]!.payload).toEqual({ orderId, reason: failed.saga.reason });
    expect(failed.saga.steps.at(-1)).toMatchObject({
      from: 'FAILED',
      to: 'FAILED',
      trigger: 'payment.succeeded.v1',
    });
    expect(await late()).toBe(before + 1);
  });

  it('refuses a late payment of another amount instead of refunding what the saga never asked for', async () => {
    const orderId = await placeReserved();
    await publishEvent(
      client.js,
      createEvent(
        InventoryReleasedV1,
        { orderId, reservationId: randomUUID(), reason: 'expired' },
        IN_TENANT,
      ),
    );
    await until(orderId, 'CANCELLED');
    const forged = createEvent(
      PaymentSucceededV1,
      { orderId, ...paymentIds(), amountMinor: 1, currency: 'EUR' },
      IN_TENANT,
    );
    await publishEvent(client.js, forged);
    await eventually(async () =>
      (await readStream<DeadLetter>(client.jsm, 'DLQ')).some((m) =>
        m.body.body.includes(forged.eventId),
      ),
    );
    await untilRelayed(SCHEMA);
    expect(await orderEvents(orderId, 'order.cancelled.v1')).toHaveLength(1);
  });

  it('refuses to cancel a completed order', async () => {
    const orderId = await placeReserved();
    await publishEvent(client.js, paymentSucceeded(orderId));
    await until(orderId, 'COMPLETED');
    const res = await request(http).post(`/orders/${orderId}/cancel`).set(customer).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, code: 'ORDER.ALREADY_FINISHED' });
  });

  it('refuses a transition computed from a stale version instead of overwriting the winner', async () => {
    const orderId = await placeReserved();
    const orchestrator = app.get(OrderSagaOrchestrator);
    const sagas = app.get(SagaRepository);
    // Both read the same version; the first to persist wins.
    const [first, second] = [
      await sagas.findByOrder(orderId, IN_TENANT),
      await sagas.findByOrder(orderId, IN_TENANT),
    ];
    await orchestrator.transition(first!, 'payment-succeeded');
    await expect(orchestrator.transition(second!, 'customer-cancel')).rejects.toBeInstanceOf(
      SagaConcurrencyError,
    );
    expect((await order(orderId)).saga.state).toBe('COMPLETED');
    expect(await orderEvents(orderId, 'order.cancelled.v1')).toEqual([]);
  });

  it('gives an event already in its inbox no effect, even where its transition now applies', async () => {
    const { orderId } = await place();
    const orchestrator = app.get(OrderSagaOrchestrator);
    const paid = paymentSucceeded(orderId);
    const inbox = { consumer: 'order-saga-test', eventId: paid.eventId };
    // Too early: ignored, and recorded as handled.
    await expect(
      orchestrator.apply(orderId, 'payment-succeeded', IN_TENANT, { cause: paid, inbox }),
    ).resolves.toMatchObject({ applied: false });
    await reserve(orderId, await created(orderId));
    await until(orderId, 'STOCK_RESERVED');
    await expect(
      orchestrator.apply(orderId, 'payment-succeeded', IN_TENANT, { cause: paid, inbox }),
    ).resolves.toMatchObject({ applied: false, duplicate: true });
    const after = await order(orderId);
    expect(after.saga.state).toBe('STOCK_RESERVED');
    expect(after.saga.steps.map((s) => s.to)).toEqual(['STARTED', 'STOCK_RESERVED']);
  });

  describe('replies applied in batches', () => {
    const pending = (orderId: string, ids = paymentIds()) =>
      createEvent(
        PaymentPendingV1,
        { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
        IN_TENANT,
      );
    const reply = (orderId: string, trigger: SagaTrigger, cause: EventEnvelope) => ({
      orderId,
      trigger,
      cause,
      inbox: { consumer: 'order-saga-batch-test', eventId: cause.eventId },
    });

    it('applies two replies of one saga that arrive together one after the other', async () => {
      const [a, b] = [await placeReserved(), await placeReserved()];
      const batcher = app.get(SagaReplyBatcher);
      const ids = paymentIds();
      const outcomes = await Promise.all([
        batcher.apply(reply(a, 'payment-pending', pending(a, ids))),
        batcher.apply(reply(a, 'payment-succeeded', paymentSucceeded(a, ids))),
        batcher.apply(reply(b, 'payment-succeeded', paymentSucceeded(b))),
      ]);
      expect(outcomes.map((outcome) => outcome.applied)).toEqual([true, true, true]);
      // The second reply applied to the state the first wrote, not to the one both found.
      expect((await order(a)).saga.steps.map((s) => `${s.from} > ${s.to}`)).toEqual([
        'null > STARTED',
        'STARTED > STOCK_RESERVED',
        'STOCK_RESERVED > PAYMENT_PENDING',
        'PAYMENT_PENDING > COMPLETED',
      ]);
      expect((await order(b)).saga.state).toBe('COMPLETED');
      expect(
        await eventually(async () => (await orderEvents(a, 'order.confirmed.v1')).length),
      ).toBe(1);
    });

    it('applies the others of a batch when one reply is already in its inbox', async () => {
      const { orderId: a } = await place();
      const b = await placeReserved();
      const orchestrator = app.get(OrderSagaOrchestrator);
      const seen = reply(a, 'payment-succeeded', paymentSucceeded(a));
      // Too early: ignored and recorded. Once reserved, its transition applies: only the inbox
      // stops it, which fails the batch's write and sends each reply down the one-by-one path.
      await orchestrator.apply(seen.orderId, seen.trigger, IN_TENANT, seen);
      await reserve(a, await created(a));
      await until(a, 'STOCK_RESERVED');
      const outcomes = await orchestrator.applyAll([
        seen,
        reply(b, 'payment-succeeded', paymentSucceeded(b)),
      ]);
      expect(outcomes).toMatchObject([
        { status: 'fulfilled', value: { applied: false, duplicate: true } },
        { status: 'fulfilled', value: { applied: true } },
      ]);
      expect((await order(a)).saga.state).toBe('STOCK_RESERVED');
      expect((await order(b)).saga.state).toBe('COMPLETED');
    });

    it('refuses a forged reply of a batch and applies the others in the same write', async () => {
      const [a, b] = [await placeReserved(), await placeReserved()];
      const forged = createEvent(
        PaymentSucceededV1,
        { orderId: a, ...paymentIds(), amountMinor: 1, currency: 'EUR' },
        IN_TENANT,
      );
      const outcomes = await app
        .get(OrderSagaOrchestrator)
        .applyAll([
          reply(a, 'payment-succeeded', forged),
          reply(b, 'payment-succeeded', paymentSucceeded(b)),
        ]);
      expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: { reason: 'amount' } });
      expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(RejectedEventError);
      expect(outcomes[1]).toMatchObject({ status: 'fulfilled', value: { applied: true } });
      expect((await order(a)).saga).toMatchObject({ state: 'STOCK_RESERVED', version: 2 });
      expect((await order(b)).saga.state).toBe('COMPLETED');
    });

    it('writes nothing of a change whose saga moved on, and the rest of the batch', async () => {
      const [a, b] = [await placeReserved(), await placeReserved()];
      const sagas = app.get(SagaRepository);
      const [staleA, sagaB] = [
        (await sagas.findByOrder(a, IN_TENANT))!,
        (await sagas.findByOrder(b, IN_TENANT))!,
      ];
      await app.get(OrderSagaOrchestrator).apply(a, 'customer-cancel', IN_TENANT);
      const paidA = paymentSucceeded(a);
      const changes = [staleA, sagaB].map((saga): SagaChange => ({
        saga,
        transition: { path: ['COMPLETED'], command: 'confirm' },
        changes: {
          state: 'COMPLETED',
          deadlineAt: null,
          reason: null,
          updatedAt: new Date(),
        },
        steps: [
          {
            fromState: saga.state,
            toState: 'COMPLETED',
            trigger: 't',
            eventId: null,
            reason: null,
          },
        ],
        events: [saga === staleA ? paidA : paymentSucceeded(b)],
        inbox: { consumer: 'order-saga-batch-test', eventId: randomUUID() },
      }));
      const written = await sagas.persist(changes);
      expect(written).toEqual(new Set([sagaB.id]));
      const afterA = await order(a);
      expect(afterA.saga.state).not.toBe('COMPLETED');
      expect(afterA.saga.steps.map((s) => s.to)).not.toContain('COMPLETED');
      expect((await order(b)).saga.state).toBe('COMPLETED');
      // The stale change's inbox record was not written either: the same cause applies later.
      await expect(sagas.recordIgnored(changes[0]!.inbox!)).resolves.toBe(true);
      await expect(sagas.recordIgnored(changes[1]!.inbox!)).resolves.toBe(false);
    });
  });

  describe('replies that do not match what the saga asked for', () => {
    const rejected = (reason: string) => metricValue(messagingMetrics.repliesRejected, { reason });

    async function deadLetter(stream: string, seq: number) {
      return eventually(async () =>
        (await readStream<DeadLetter>(client.jsm, 'DLQ')).find(
          (m) => m.body.stream === stream && m.body.sequence === seq,
        ),
      );
    }

    /** The durable that reads `subject` for the saga: the refused reply is not pending there. */
    async function settledOnce(stream: string, subject: string) {
      for await (const consumer of client.jsm.consumers.list(stream)) {
        if (consumer.config.filter_subject !== subject) continue;
        const info = await client.jsm.consumers.info(stream, consumer.name);
        expect(info).toMatchObject({ num_ack_pending: 0, num_redelivered: 0 });
        return;
      }
      throw new Error(`no consumer of ${subject}`);
    }

    /** An order in PAYMENT_PENDING, its PaymentIntent recorded from payment.pending. */
    async function placePending() {
      const orderId = await placeReserved();
      const ids = paymentIds();
      await publishEvent(
        client.js,
        createEvent(
          PaymentPendingV1,
          { orderId, ...ids, amountMinor: 2500, currency: 'EUR' },
          IN_TENANT,
        ),
      );
      return { orderId, ids, pending: await until(orderId, 'PAYMENT_PENDING') };
    }

    it.each([
      ['amount', { amountMinor: 1 }, IN_TENANT],
      ['currency', { currency: 'USD' }, IN_TENANT],
      ['payment-intent', { paymentIntentId: 'pi_forged' }, IN_TENANT],
      ['tenant', {}, { tenantId: 't-other' }],
    ])(
      'dead-letters a payment.succeeded with another %s, moves nothing, and completes on the real one',
      async (reason, forgery, origin) => {
        const { orderId, ids, pending } = await placePending();
        const before = await rejected(reason);
        const payload = { orderId, ...ids, amountMinor: 2500, currency: 'EUR', ...forgery };
        const seq = await publishEvent(client.js, createEvent(PaymentSucceededV1, payload, origin));

        const letter = await deadLetter('PAYMENTS', seq);
        expect(letter.body.error).toMatch(new RegExp(`^PermanentEventError: ${reason}: `));
        expect(letter.body.deliveries).toBe(1);
        expect(await rejected(reason)).toBe(before + 1);
        const after = await order(orderId);
        expect(after.saga).toEqual(pending.saga);
        expect(await orderEvents(orderId, 'order.confirmed.v1')).toEqual([]);
        // Terminated, not left to be redelivered.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await settledOnce('PAYMENTS', 'payment.succeeded.v1');

        await publishEvent(client.js, paymentSucceeded(orderId, ids));
        expect((await until(orderId, 'COMPLETED')).status).toBe('CONFIRMED');
      },
    );

    it('believes the first PaymentIntent it sees when payment.pending has not come', async () => {
      const orderId = await placeReserved();
      const ids = paymentIds();
      await publishEvent(client.js, paymentSucceeded(orderId, ids));
      await until(orderId, 'COMPLETED');
      const [saga] = await query<{ paymentIntentId: string }>(
        `SELECT payment_intent_id AS "paymentIntentId" FROM "${SCHEMA}".sagas WHERE order_id = $1`,
        [orderId],
      );
      expect(saga!.paymentIntentId).toBe(ids.paymentIntentId);
    });

    it.each([
      ['another quantity', [{ sku: 'SKU-1', quantity: 1, unitPriceMinor: 1250 }]],
      [
        'an extra line',
        [
          { sku: 'SKU-1', quantity: 2, unitPriceMinor: 1250 },
          { sku: 'SKU-2', quantity: 1, unitPriceMinor: 100 },
        ],
      ],
      ['another sku', [{ sku: 'SKU-9', quantity: 2, unitPriceMinor: 1250 }]],
    ])('refuses an inventory.reserved with %s, then takes the real one', async (_case, lines) => {
      const { orderId } = await place();
      const cause = await created(orderId);
      const before = await rejected('lines');
      const totalMinor = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0);
      const forged = createEvent(
        InventoryReservedV1,
        {
          orderId,
          reservationId: randomUUID(),
          lines,
          totalMinor,
          currency: 'EUR',
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
        { cause },
      );
      const letter = await deadLetter('INVENTORY', await publishEvent(client.js, forged));
      expect(letter.body.error).toMatch(/^PermanentEventError: lines: /);
      expect(await rejected('lines')).toBe(before + 1);
      const after = await order(orderId);
      expect(after).toMatchObject({ totalMinor: null, saga: { state: 'STARTED', version: 1 } });
      expect(await orderEvents(orderId, 'order.payment-requested.v1')).toEqual([]);

      await reserve(orderId, cause);
      expect((await until(orderId, 'STOCK_RESERVED')).totalMinor).toBe(2500);
    });
  });

  it('dead-letters a reply for an order it does not know', async () => {
    const orderId = randomUUID();
    const seq = await publishEvent(
      client.js,
      createEvent(PaymentFailedV1, { orderId, reason: 'x' }),
    );
    const letter = await eventually(async () =>
      (await readStream<DeadLetter>(client.jsm, 'DLQ')).find(
        (m) => m.body.stream === 'PAYMENTS' && m.body.sequence === seq,
      ),
    );
    expect(letter.body.error).toBe(`PermanentEventError: no saga for order ${orderId}`);
  });
});

/** Transitions through a transient state log two steps for one version bump. */
function extraTransientSteps(steps: { to: string }[]): number {
  return steps.filter((s) => s.to === 'PAYMENT_FAILED' || s.to === 'STOCK_FAILED').length;
}
