import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  InventoryReservedV1,
  PaymentFailedV1,
  PaymentPendingV1,
} from '@lib/contracts';
import {
  BulkSagaActionResult,
  SAGA_ACTIONS,
  SagaAction,
  SagaActionResult,
  SagaCounts,
  SagaDetail,
  SagaPage,
  SagaSearch,
} from '@lib/operator-api';
import { freshSchema, query } from '../../../../tests/harness/database';
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
import { OrderConfig } from '../config';
import { OrderSagaOrchestrator } from '../order-saga/order-saga.orchestrator';
import { isFinal, SAGA_STATES, SagaState } from '../order-saga/order-saga.state';
import { OrderModule } from '../order.module';

const SCHEMA = 'saga_operations_test';
const TENANT = 't-ops';

type Headers = Record<string, string>;

/** What each action does where the table allows it: the state it leaves and the event it emits. */
const ALLOWED: Record<SagaAction, Partial<Record<SagaState, [SagaState, string]>>> = {
  retry: {
    STARTED: ['STARTED', 'order.created.v1'],
    STOCK_RESERVED: ['STOCK_RESERVED', 'order.payment-requested.v1'],
    PAYMENT_PENDING: ['PAYMENT_PENDING', 'order.payment-requested.v1'],
    COMPENSATING: ['COMPENSATING', 'order.cancelled.v1'],
  },
  cancel: {
    STARTED: ['CANCELLED', 'order.cancelled.v1'],
    STOCK_RESERVED: ['COMPENSATING', 'order.cancelled.v1'],
    PAYMENT_PENDING: ['COMPENSATING', 'order.cancelled.v1'],
    FAILED: ['COMPENSATING', 'order.cancelled.v1'],
  },
  resolve: { FAILED: ['RESOLVED', 'order.resolved.v1'] },
};

/** The order app alone: the tests answer for inventory and payment, or put sagas in a state. */
describe('operator API on sagas', () => {
  let nats: TestNatsServer;
  let app: NestFastifyApplication;
  let client: JetStreamClients;
  let http: ReturnType<NestFastifyApplication['getHttpServer']>;
  let operator: Headers;

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    // Deadlines far away and no scan: a saga stays in the state a test puts it in, also past its
    // deadline (stuck, as when no worker runs).
    const config = testConfig(OrderConfig, nats.env('order'), {
      SAGA_STOCK_TIMEOUT_MS: '600000',
      SAGA_COMPENSATION_TIMEOUT_MS: '600000',
      SAGA_DEADLINE_SCAN_MS: '3600000',
    });
    app = await startPlatformApp(OrderModule.forRoot(config, SCHEMA), 'order', config);
    client = await nats.operator();
    http = app.getHttpServer();
    operator = await bearer('ops-1', ['operator'], TENANT);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
  });

  async function place(
    tenantId = TENANT,
    customerId = 'c-1',
  ): Promise<{ orderId: string; sagaId: string }> {
    const res = await request(http)
      .post('/orders')
      .set(await bearer(customerId, ['customer'], tenantId))
      .send({ items: [{ sku: 'SKU-1', quantity: 2 }] })
      .expect(202);
    return res.body as { orderId: string; sagaId: string };
  }

  const sagaRow = async (sagaId: string) =>
    (
      await query<{
        state: SagaState;
        version: number;
        reason: string | null;
        deadline_at: Date | null;
      }>(`SELECT state, version, reason, deadline_at FROM ${SCHEMA}.sagas WHERE id = $1`, [sagaId])
    )[0]!;
  const steps = (sagaId: string) =>
    query<{ from_state: string | null; to_state: string; trigger: string; reason: string | null }>(
      `SELECT from_state, to_state, trigger, reason FROM ${SCHEMA}.saga_steps WHERE saga_id = $1 ORDER BY id`,
      [sagaId],
    );
  const audits = (sagaId: string) =>
    query<{
      actor: string;
      tenant_id: string;
      action: string;
      entity_type: string;
      result: string;
      reason: string | null;
      details: Record<string, unknown>;
    }>(
      `SELECT actor, tenant_id, action, entity_type, result, reason, details
         FROM ${SCHEMA}.audit_log WHERE entity_id = $1 AND action LIKE 'saga.%' ORDER BY id`,
      [sagaId],
    );
  const outbox = (sagaId: string) =>
    query<{ event_id: string; subject: string; body: string }>(
      `SELECT event_id, subject, body FROM ${SCHEMA}.outbox
        WHERE body::jsonb ->> 'sagaId' = $1 ORDER BY id`,
      [sagaId],
    );

  /**
   * Puts a saga in `state` as its transitions would have left it: a deadline while it is not
   * final, the reason of a failure, an amount once priced. `updatedAt` ages it.
   */
  async function force(sagaId: string, state: SagaState, ageMs = 0) {
    await query(
      `UPDATE ${SCHEMA}.sagas SET state = $2, version = version + 1,
         deadline_at = CASE WHEN $3 THEN NULL ELSE now() + interval '1 hour' END,
         reason = CASE WHEN $2 IN ('FAILED', 'RESOLVED') THEN 'stock release not confirmed in time'
           WHEN $2 IN ('COMPENSATING', 'CANCELLED') THEN 'payment-timeout' END,
         amount_minor = 2500, updated_at = now() - make_interval(secs => $4::float8 / 1000)
       WHERE id = $1`,
      [sagaId, state, isFinal(state) || state.endsWith('_FAILED'), ageMs],
    );
  }

  const act = (sagaId: string, action: SagaAction, headers = operator, body: object = {}) =>
    request(http).post(`/operator/sagas/${sagaId}/${action}`).set(headers).send(body);

  async function orderEvents(orderId: string, subject: string) {
    return (await readStream<EventEnvelope<{ orderId: string }>>(client.jsm, 'ORDERS', subject))
      .filter((m) => m.body.payload.orderId === orderId)
      .map((m) => m.body);
  }

  async function eventsOf(orderId: string, subject: string, count: number) {
    return eventually(
      async () => {
        const events = await orderEvents(orderId, subject);
        return events.length >= count ? events : undefined;
      },
      { what: `${count} ${subject} of ${orderId}` },
    );
  }

  async function reserve(orderId: string): Promise<EventEnvelope> {
    const [created] = await eventsOf(orderId, 'order.created.v1', 1);
    const event = createEvent(
      InventoryReservedV1,
      {
        orderId,
        reservationId: randomUUID(),
        lines: [{ sku: 'SKU-1', quantity: 2, unitPriceMinor: 1250 }],
        totalMinor: 2500,
        currency: 'EUR',
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
      },
      { cause: created },
    );
    await publishEvent(client.js, event);
    return event;
  }

  async function until(sagaId: string, state: SagaState) {
    await eventually(async () => (await sagaRow(sagaId)).state === state, {
      what: `saga ${sagaId} in ${state}`,
    });
  }

  const paymentPending = (orderId: string, paymentIntentId = `pi_${randomUUID()}`) =>
    createEvent(
      PaymentPendingV1,
      { orderId, paymentId: randomUUID(), paymentIntentId, amountMinor: 2500, currency: 'EUR' },
      { tenantId: TENANT },
    );

  describe.each(SAGA_ACTIONS)('%s', (action) => {
    it.each(SAGA_STATES)(
      'from %s: applies it as the table says, or answers 409 and changes nothing',
      async (state) => {
        const { orderId, sagaId } = await place();
        await force(sagaId, state);
        const before = await sagaRow(sagaId);
        const stepsBefore = (await steps(sagaId)).length;
        const eventsBefore = (await outbox(sagaId)).length;
        const res = await act(sagaId, action, operator, { note: 'ticket OPS-1' });
        const allowed = ALLOWED[action][state];

        if (!allowed) {
          expect(res.status).toBe(409);
          expect(res.body).toMatchObject({ code: 'SAGA.ACTION_NOT_ALLOWED' });
          expect((res.body as { message: string }).message).toContain(`is ${state}`);
          expect(await sagaRow(sagaId)).toEqual(before);
          expect(await steps(sagaId)).toHaveLength(stepsBefore);
          expect(await outbox(sagaId)).toHaveLength(eventsBefore);
          expect(await audits(sagaId)).toEqual([]);
          return;
        }
        const [to, subject] = allowed;
        expect(res.status).toBe(action === 'resolve' ? 200 : 202);
        const result = res.body as SagaActionResult;
        expect(result).toMatchObject({
          sagaId,
          orderId,
          action,
          from: state,
          state: to,
          version: before.version + 1,
          event: { subject },
        });
        expect(await sagaRow(sagaId)).toMatchObject({ state: to, version: before.version + 1 });
        expect((await steps(sagaId)).slice(stepsBefore)).toEqual([
          expect.objectContaining({
            from_state: state,
            to_state: to,
            trigger: `operator-${action}`,
          }),
        ]);
        const emitted = (await outbox(sagaId)).slice(eventsBefore);
        expect(emitted.map((e) => [e.event_id, e.subject])).toEqual([
          [result.event.eventId, subject],
        ]);
        expect(await audits(sagaId)).toEqual([
          {
            actor: 'ops-1',
            tenant_id: TENANT,
            action: `saga.${action}`,
            entity_type: 'saga',
            result: 'success',
            reason: 'ticket OPS-1',
            details: { orderId, from: state, to, eventId: result.event.eventId },
          },
        ]);
      },
    );
  });

  it('retries the payment step with a new event id and the causation of the first request, under a fresh deadline', async () => {
    const { orderId, sagaId } = await place();
    const reserved = await reserve(orderId);
    await until(sagaId, 'STOCK_RESERVED');
    const [first] = await eventsOf(orderId, 'order.payment-requested.v1', 1);
    const deadline = (await sagaRow(sagaId)).deadline_at!;

    const retried = (await act(sagaId, 'retry').expect(202)).body as SagaActionResult;
    const [, again] = await eventsOf(orderId, 'order.payment-requested.v1', 2);
    expect(again!.eventId).toBe(retried.event.eventId);
    expect(again!.eventId).not.toBe(first!.eventId);
    expect(again).toMatchObject({
      causationId: reserved.eventId,
      correlationId: orderId,
      sagaId,
      tenantId: TENANT,
      payload: first!.payload,
    });
    expect((await sagaRow(sagaId)).deadline_at!.getTime()).toBeGreaterThan(deadline.getTime());

    // Payment answered meanwhile: the command repeated is still the one sent on reservation.
    await publishEvent(client.js, paymentPending(orderId));
    await until(sagaId, 'PAYMENT_PENDING');
    await act(sagaId, 'retry').expect(202);
    const [, , third] = await eventsOf(orderId, 'order.payment-requested.v1', 3);
    expect(third).toMatchObject({ causationId: reserved.eventId, payload: first!.payload });
  });

  it('retries the stock step by placing the order again, with no causation like the first', async () => {
    const { orderId, sagaId } = await place();
    const [first] = await eventsOf(orderId, 'order.created.v1', 1);
    await act(sagaId, 'retry').expect(202);
    const [, again] = await eventsOf(orderId, 'order.created.v1', 2);
    expect(again!.eventId).not.toBe(first!.eventId);
    expect(again).toMatchObject({ causationId: null, sagaId, payload: first!.payload });
  });

  /**
   * A reply's transition holds the saga row (its transaction open) while the action is sent; the
   * action's version-checked write waits for it, finds the version gone, and decides again on the
   * state the reply left.
   */
  async function raceWithReply(
    orderId: string,
    reply: EventEnvelope,
    trigger: 'payment-pending' | 'payment-failed',
    send: () => Promise<request.Response>,
  ): Promise<request.Response> {
    const dataSource = app.get(DataSource);
    const orchestrator = app.get(OrderSagaOrchestrator);
    let sent: Promise<request.Response> | undefined;
    await dataSource.transaction(async (manager) => {
      const outcome = await orchestrator.apply(
        orderId,
        trigger,
        { tenantId: TENANT },
        { manager, cause: reply },
      );
      expect(outcome?.applied).toBe(true);
      sent = send();
      await eventually(
        async () => {
          const [row] = await query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE '%UPDATE%${SCHEMA}%sagas%'`,
          );
          return row!.n > 0;
        },
        { what: 'the action to wait for the reply' },
      );
    });
    return sent!;
  }

  it('decides a retry again on the state a concurrent reply left (version check)', async () => {
    const { orderId, sagaId } = await place();
    await reserve(orderId);
    await until(sagaId, 'STOCK_RESERVED');
    const res = await raceWithReply(orderId, paymentPending(orderId), 'payment-pending', () =>
      act(sagaId, 'retry').then((r) => r),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      from: 'PAYMENT_PENDING',
      state: 'PAYMENT_PENDING',
      version: 4,
    });
    expect((await steps(sagaId)).map((s) => s.trigger)).toEqual([
      'order.created.v1',
      'inventory.reserved.v1',
      'payment.pending.v1',
      'operator-retry',
    ]);
    expect(await audits(sagaId)).toHaveLength(1);
  });

  it('answers 409 to a cancel a concurrent payment failure already compensates, and writes nothing', async () => {
    const { orderId, sagaId } = await place();
    await reserve(orderId);
    await until(sagaId, 'STOCK_RESERVED');
    const failed = createEvent(
      PaymentFailedV1,
      { orderId, paymentId: randomUUID(), reason: 'card declined' },
      { tenantId: TENANT },
    );
    const res = await raceWithReply(orderId, failed, 'payment-failed', () =>
      act(sagaId, 'cancel').then((r) => r),
    );
    expect(res.status).toBe(409);
    expect((res.body as { message: string }).message).toContain('is COMPENSATING');
    expect(await sagaRow(sagaId)).toMatchObject({
      state: 'COMPENSATING',
      reason: 'payment-failed',
    });
    expect((await steps(sagaId)).map((s) => s.trigger)).not.toContain('operator-cancel');
    expect(await audits(sagaId)).toEqual([]);
    const cancels = (await outbox(sagaId)).filter((e) => e.subject === 'order.cancelled.v1');
    expect(cancels).toHaveLength(1);
  });

  it('acts once on a request sent again under its Idempotency-Key, and answers the first answer', async () => {
    const { sagaId } = await place();
    const key = `cancel-${randomUUID()}`;
    const send = () => act(sagaId, 'cancel').set('Idempotency-Key', key);
    const first = await send().expect(202);
    const again = await send().expect(202);
    expect(again.body).toEqual(first.body);
    expect((await steps(sagaId)).filter((s) => s.trigger === 'operator-cancel')).toHaveLength(1);
    expect(await outbox(sagaId)).toHaveLength(2); // order.created, then the one order.cancelled
    expect(await audits(sagaId)).toHaveLength(1);
    // Without the key, the state the first cancel left does not allow another.
    await act(sagaId, 'cancel').expect(409);
  });

  it('requires a note to resolve, and refuses bad bodies and ids with 400, changing nothing', async () => {
    const { sagaId } = await place();
    await force(sagaId, 'FAILED');
    const before = await sagaRow(sagaId);
    for (const body of [{}, { note: '' }, { note: 'x'.repeat(501) }, { note: 'ok', extra: 1 }]) {
      const res = await act(sagaId, 'resolve', operator, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    await act(sagaId, 'cancel', operator, { note: 42 }).expect(400);
    await request(http).post('/operator/sagas/not-a-uuid/retry').set(operator).send({}).expect(400);
    await act(randomUUID(), 'retry').expect(404);
    expect(await sagaRow(sagaId)).toEqual(before);
    expect(await audits(sagaId)).toEqual([]);
  });

  describe('tenancy', () => {
    it("hides a saga from another tenant's operator: 404, and nothing changes", async () => {
      const { sagaId } = await place();
      const stranger = await bearer('ops-2', ['operator'], 'other-tenant');
      await request(http).get(`/operator/sagas/${sagaId}`).set(stranger).expect(404);
      const res = await act(sagaId, 'cancel', stranger);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'SAGA.NOT_FOUND' });
      expect(await sagaRow(sagaId)).toMatchObject({ state: 'STARTED', version: 1 });
      const page = await request(http)
        .get(`/operator/sagas?tenantId=${TENANT}`)
        .set(stranger)
        .expect(200);
      expect((page.body as SagaPage).items).toEqual([]);
    });

    it("lets a platform operator act on any tenant's saga, audited in that tenant's trail", async () => {
      const { sagaId } = await place('t-elsewhere');
      const platform = await bearer('root-1', ['platform-operator']);
      const found = await request(http)
        .get('/operator/sagas?tenantId=t-elsewhere')
        .set(platform)
        .expect(200);
      expect((found.body as SagaPage).items.map((s) => s.sagaId)).toEqual([sagaId]);
      await act(sagaId, 'cancel', platform).expect(202);
      expect(await audits(sagaId)).toEqual([
        expect.objectContaining({
          actor: 'root-1',
          tenant_id: 't-elsewhere',
          action: 'saga.cancel',
        }),
      ]);
      const trail = await request(http)
        .get(`/audit?entity=${sagaId}`)
        .set(await bearer('ops-3', ['operator'], 't-elsewhere'))
        .expect(200);
      expect((trail.body as { items: unknown[] }).items).toHaveLength(1);
    });

    it('refuses customers, merchants and traders with 403, and changes nothing', async () => {
      const { sagaId } = await place();
      for (const role of ['customer', 'merchant', 'trader', 'service']) {
        const headers = await bearer('someone', [role], TENANT);
        await request(http).get('/operator/sagas').set(headers).expect(403);
        await request(http).get(`/operator/sagas/${sagaId}`).set(headers).expect(403);
        for (const action of SAGA_ACTIONS)
          await act(sagaId, action, headers, { note: 'n' }).expect(403);
        await request(http)
          .post('/operator/sagas/bulk')
          .set(headers)
          .send({ action: 'cancel', filter: { state: 'STARTED' } })
          .expect(403);
      }
      expect(await sagaRow(sagaId)).toMatchObject({ state: 'STARTED', version: 1 });
    });
  });

  describe('bulk', () => {
    const bulk = (headers: Headers, body: object) =>
      request(http).post('/operator/sagas/bulk').set(headers).send(body);

    it('acts on exactly the sagas its dry run counted, oldest first, a capped number at a time', async () => {
      const tenant = 't-bulk';
      const ops = await bearer('ops-bulk', ['operator'], tenant);
      const sagas: string[] = [];
      for (const ageMs of [3, 2, 4].map((hours) => hours * 3_600_000)) {
        const { sagaId } = await place(tenant);
        await force(sagaId, 'PAYMENT_PENDING', ageMs);
        sagas.push(sagaId);
      }
      const young = await place(tenant);
      await force(young.sagaId, 'PAYMENT_PENDING');
      const oldestFirst = [sagas[2], sagas[0], sagas[1]];
      const request_ = {
        action: 'cancel',
        filter: { state: 'PAYMENT_PENDING', olderThanMs: 3_600_000 },
        limit: 2,
        note: 'provider incident',
      };

      const dry = (await bulk(ops, { ...request_, dryRun: true }).expect(200))
        .body as BulkSagaActionResult;
      expect(dry).toEqual({
        action: 'cancel',
        dryRun: true,
        matched: 2,
        applied: 0,
        sagaIds: oldestFirst.slice(0, 2),
        skipped: [],
        more: true,
      });
      for (const sagaId of sagas) expect((await sagaRow(sagaId)).state).toBe('PAYMENT_PENDING');

      const applied = (await bulk(ops, request_).expect(200)).body as BulkSagaActionResult;
      expect(applied).toMatchObject({
        matched: dry.matched,
        applied: dry.matched,
        sagaIds: dry.sagaIds,
      });
      for (const sagaId of dry.sagaIds) {
        expect(await sagaRow(sagaId)).toMatchObject({ state: 'COMPENSATING', reason: 'operator' });
        expect(await audits(sagaId)).toEqual([
          expect.objectContaining({
            action: 'saga.cancel',
            reason: 'provider incident',
            details: expect.objectContaining({ bulk: request_.filter }),
          }),
        ]);
      }

      const rest = (await bulk(ops, { ...request_, dryRun: true }).expect(200))
        .body as BulkSagaActionResult;
      expect(rest).toMatchObject({ matched: 1, sagaIds: [oldestFirst[2]], more: false });
      expect((await bulk(ops, request_).expect(200)).body).toMatchObject({ applied: 1 });
      expect((await sagaRow(young.sagaId)).state).toBe('PAYMENT_PENDING');
    });

    it('skips a saga a reply moved while the bulk action ran, and acts on the others', async () => {
      const tenant = 't-bulk-race';
      const ops = await bearer('ops-race', ['operator'], tenant);
      const a = await place(tenant);
      const b = await place(tenant);
      await force(a.sagaId, 'FAILED');
      await force(b.sagaId, 'FAILED');
      const db = app.get(DataSource);
      let sent: Promise<request.Response> | undefined;
      await db.transaction(async (manager) => {
        // As a transition of b would: its row changes version under a lock held until commit.
        await manager.query(`UPDATE ${SCHEMA}.sagas SET version = version + 1 WHERE id = $1`, [
          b.sagaId,
        ]);
        sent = bulk(ops, { action: 'resolve', filter: { state: 'FAILED' }, note: 'fixed' }).then(
          (r) => r,
        );
        await eventually(async () => {
          const [row] = await query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return row!.n > 0;
        });
      });
      const res = await sent!;
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ matched: 2, applied: 1, skipped: [b.sagaId] });
      expect((await sagaRow(a.sagaId)).state).toBe('RESOLVED');
      expect((await sagaRow(b.sagaId)).state).toBe('FAILED');
      expect(await audits(b.sagaId)).toEqual([]);
    });

    it('answers 409 when the state of the filter does not allow the action, and 400 to bad bodies', async () => {
      const res = await bulk(operator, { action: 'retry', filter: { state: 'FAILED' } });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'SAGA.ACTION_NOT_ALLOWED' });
      for (const body of [
        { action: 'cancel', filter: {} },
        { action: 'cancel' },
        { action: 'explode', filter: { state: 'STARTED' } },
        { action: 'resolve', filter: { state: 'FAILED' } },
        { action: 'cancel', filter: { state: 'STARTED' }, limit: 501 },
        { action: 'cancel', filter: { state: 'STARTED' }, dryRun: 'yes' },
        { action: 'cancel', filter: { state: 'STARTED', tenant: 'x' } },
      ]) {
        const bad = await bulk(operator, body);
        expect({ body, status: bad.status }).toEqual({ body, status: 400 });
      }
    });
  });

  describe('read model', () => {
    const tenant = 't-read';
    let ops: Headers;
    const get = (path: string, headers = ops) => request(http).get(path).set(headers);

    /** Five sagas of one tenant, the newest last: two completed-by-force, one failed, two started. */
    let sagas: { orderId: string; sagaId: string }[];

    beforeAll(async () => {
      ops = await bearer('ops-read', ['operator'], tenant);
      sagas = [];
      for (const [i, state] of (
        ['COMPLETED', 'COMPLETED', 'FAILED', 'STARTED'] as const
      ).entries()) {
        const placed = await place(tenant, `c-read-${i % 2}`);
        await force(placed.sagaId, state, (10 - i) * 60_000);
        sagas.push(placed);
      }
      sagas.push(await place(tenant, 'c-read-0'));
    });

    it('lists newest first, a page at a time, each saga once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`/operator/sagas?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(
          200,
        );
        const page = res.body as SagaPage;
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((s) => s.sagaId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(sagas.map((s) => s.sagaId).reverse());
    });

    it('filters by state, reason, customer, age and stuckness', async () => {
      const ids = async (query_: string) =>
        ((await get(`/operator/sagas?${query_}`).expect(200)).body as SagaPage).items.map(
          (s) => s.sagaId,
        );
      const [c1, c2, failed, started, fresh] = sagas.map((s) => s.sagaId);
      expect(await ids('state=COMPLETED')).toEqual([c2, c1]);
      expect(await ids('reason=stock%20release%20not%20confirmed%20in%20time')).toEqual([failed]);
      expect(await ids('customerId=c-read-1')).toEqual([started, c2]);
      expect(await ids('olderThanMs=570000')).toEqual([c1]);
      expect(await ids('stuck=true')).toEqual([]);
      await query(
        `UPDATE ${SCHEMA}.sagas SET deadline_at = now() - interval '1 minute' WHERE id = $1`,
        [started],
      );
      expect(await ids('stuck=true')).toEqual([started]);
      // Or in flight for longer than olderThanMs, deadline or not.
      expect(await ids('stuck=true&olderThanMs=300000')).toEqual([started]);
      expect(await ids('stuck=true&olderThanMs=0')).toEqual([fresh, started]);
      expect(await ids(`tenantId=${tenant}&state=FAILED`)).toEqual([failed]);
      expect(await ids('tenantId=t-ops')).toEqual([]);
    });

    it('counts every state of the tenant', async () => {
      const counts = (await get('/operator/sagas/counts').expect(200)).body as SagaCounts;
      expect(counts.cap).toBe(10_000);
      expect(counts.capped).toEqual([]);
      expect(counts.states).toEqual(
        expect.objectContaining({ COMPLETED: 2, FAILED: 1, STARTED: 2, RESOLVED: 0 }),
      );
      expect(Object.keys(counts.states)).toEqual([...SAGA_STATES]);
      const failed = (await get('/operator/sagas/counts?state=FAILED').expect(200))
        .body as SagaCounts;
      expect(failed.states).toEqual(expect.objectContaining({ FAILED: 1, COMPLETED: 0 }));
    });

    it('finds a saga by its saga, order, customer or PaymentIntent id, only in the tenant', async () => {
      const { orderId, sagaId } = sagas[4]!;
      await query(`UPDATE ${SCHEMA}.sagas SET payment_intent_id = 'pi_read_1' WHERE id = $1`, [
        sagaId,
      ]);
      const find = async (id: string, headers = ops) =>
        (
          (await get(`/operator/sagas/find?id=${encodeURIComponent(id)}`, headers).expect(200))
            .body as SagaSearch
        ).items.map((s) => [s.sagaId, s.matchedBy]);
      expect(await find(sagaId)).toEqual([[sagaId, 'sagaId']]);
      expect(await find(orderId.toUpperCase())).toEqual([[sagaId, 'orderId']]);
      expect(await find('pi_read_1')).toEqual([[sagaId, 'paymentIntentId']]);
      expect((await find('c-read-0')).map(([id]) => id)).toEqual(
        [sagas[4], sagas[2], sagas[0]].map((s) => s!.sagaId),
      );
      expect(await find(sagaId, operator)).toEqual([]);
      expect(await find('nothing-like-it')).toEqual([]);
    });

    it('shows a saga with its order, step log, audit trail and what an operator may do', async () => {
      const { orderId, sagaId } = sagas[4]!;
      const detail = (await get(`/operator/sagas/${sagaId}`).expect(200)).body as SagaDetail;
      expect(detail).toMatchObject({
        sagaId,
        orderId,
        tenantId: tenant,
        customerId: 'c-read-0',
        state: 'STARTED',
        correlationId: orderId,
        traceId: null,
        waitingFor: { step: 'stock', deadlineAt: expect.any(String) },
        actions: ['retry', 'cancel'],
        order: {
          status: 'PENDING',
          currency: 'EUR',
          lines: [{ sku: 'SKU-1', quantity: 2, unitPriceMinor: null }],
        },
        steps: [{ from: null, to: 'STARTED', trigger: 'order.created.v1', reason: null }],
        audit: [{ actor: 'c-read-0', action: 'order.place', result: 'success' }],
      });
      expect(new Date(detail.steps[0]!.at).toISOString()).toBe(detail.steps[0]!.at);
      await act(sagaId, 'cancel', ops, { note: 'asked by phone' }).expect(202);
      const after = (await get(`/operator/sagas/${sagaId}`).expect(200)).body as SagaDetail;
      expect(after).toMatchObject({ state: 'CANCELLED', actions: [], waitingFor: null });
      expect(after.audit.map((a) => [a.action, a.reason])).toEqual([
        ['order.place', null],
        ['saga.cancel', 'asked by phone'],
      ]);
    });

    it.each([
      'state=BOGUS',
      'limit=0',
      'limit=201',
      'cursor=%2F%2F',
      `cursor=${Buffer.from('yesterday 1').toString('base64url')}`,
      'stuck=maybe',
      'olderThanMs=-1',
      'olderThanMs=soon',
      'tenantId=a%20b',
      'customerId=',
      'color=blue',
    ])('answers 400 to the list with %s', async (query_) => {
      const res = await get(`/operator/sagas?${query_}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'REQUEST.INVALID' });
    });

    it('answers 400 to a search without an id, or with a control character in it', async () => {
      await get('/operator/sagas/find').expect(400);
      await get('/operator/sagas/find?id=a%01b').expect(400);
      await get('/operator/sagas/counts?state=nope').expect(400);
    });
  });
});
