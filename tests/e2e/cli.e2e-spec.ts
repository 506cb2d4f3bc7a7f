import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import {
  createEvent,
  InventoryLowStockV1,
  InventoryReservedV1,
  OrderCreatedV1,
} from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { untilHandled } from '../harness/app-probes';
import { CliRun, runCli } from '../harness/cli';
import { query, TEST_OPERATOR_URL } from '../harness/database';
import { publishEvent } from '../harness/events';
import { SagaSystem } from '../harness/saga-system';
import { readStream } from '../harness/streams';
import { tokenFor } from '../harness/tokens';
import { eventually, sleep } from '../harness/wait';

/** Who runs the CLI in these cases: the actor of its audit records. */
const ACTOR = 'ops-alice';

/** The operators' CLI against a running order + inventory system. */
describe('saga-cli', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({ payment: () => 'pending-only' });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  function cliWith(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
    return runCli(
      {
        // The operator's NATS user, as operators run it.
        ...system.nats.env(OPERATOR_USER),
        // The operators' role, not a superuser: what the migrations grant it must be enough.
        DATABASE_URL: TEST_OPERATOR_URL,
        SAGA_CLI_ACTOR: ACTOR,
        ...env,
      },
      args,
    );
  }

  const cli = (...args: string[]) => cliWith({}, ...args);

  /** The records the CLI left in an app's audit trail, oldest first. */
  const audited = (schema: string, action: string) =>
    query<Record<string, unknown>>(
      `SELECT actor, tenant_id, action, entity_type, entity_id, result, reason, request_id, details
       FROM ${schema}.audit_log WHERE action = $1 ORDER BY id`,
      [action],
    );

  /** Publishes an order.created the inventory consumer cannot read, and waits for its dead letter. */
  async function deadLetter(): Promise<{ seq: number; sequence: number; eventId: string }> {
    const broken = {
      ...createEvent(OrderCreatedV1, {
        orderId: randomUUID(),
        customerId: 'c',
        currency: 'EUR',
        items: [{ sku: 'CLI-1', quantity: 1 }],
      }),
      eventVersion: 7,
    };
    const ack = await system.js.publish('order.created.v1', JSON.stringify(broken), {
      msgID: randomUUID(),
    });
    const stored = await eventually(async () => {
      const listed = await json<{ seq: number; sequence: number }[]>('dlq', 'list');
      return listed.find((l) => l.sequence === ack.seq);
    });
    return { ...stored, eventId: broken.eventId };
  }

  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, '--json');
    expect(result).toMatchObject({ code: 0 });
    return JSON.parse(result.stdout) as T;
  };

  it('shows a saga: state, step log and every event of its conversation in order', async () => {
    await system.putProduct('CLI-1', 5, 700);
    const orderId = await system.placeOrder([{ sku: 'CLI-1', quantity: 2 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    const shown = await json<{
      saga: { state: string; order_id: string };
      steps: { to_state: string }[];
      events: { stream: string; event: { eventName: string } }[];
    }>('saga', 'show', orderId);
    expect(shown.saga).toMatchObject({ state: 'PAYMENT_PENDING', order_id: orderId });
    expect(shown.steps.map((s) => s.to_state)).toEqual([
      'STARTED',
      'STOCK_RESERVED',
      'PAYMENT_PENDING',
    ]);
    expect(shown.events.map((e) => `${e.stream} ${e.event.eventName}`)).toEqual([
      'ORDERS order.created',
      'INVENTORY inventory.reserved',
      'ORDERS order.payment-requested',
      'PAYMENTS payment.pending',
    ]);
    const text = await cli('saga', 'show', orderId);
    expect(text.stdout).toContain('PAYMENT_PENDING');
  });

  it('lists sagas that have not moved for a while', async () => {
    const orderId = await system.placeOrder([{ sku: 'CLI-1', quantity: 1 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    await sleep(1200);
    const stuck = await json<{ order: string; state: string }[]>(
      'sagas',
      'stuck',
      '--older-than',
      '1s',
    );
    expect(stuck).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ order: orderId, state: 'PAYMENT_PENDING' }),
      ]),
    );
    expect(await json<unknown[]>('sagas', 'stuck', '--older-than', '1h')).toEqual([]);
  });

  it('lists streams with their consumers', async () => {
    const rows = await json<{ stream: string; consumer?: string; messages?: number }[]>('streams');
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stream: 'ORDERS', messages: expect.any(Number) }),
        expect.objectContaining({
          stream: 'ORDERS',
          consumer: 'inventory__order_created_v1',
          pending: 0,
        }),
      ]),
    );
  });

  it('lists, shows and replays a dead letter onto its original subject, and audits the replay', async () => {
    const stored = await deadLetter();
    const [listed] = (
      await json<{ seq: number; consumer: string; error: string }[]>('dlq', 'list')
    ).filter((l) => l.seq === stored.seq);
    expect(listed).toMatchObject({
      consumer: 'inventory__order_created_v1',
      error: expect.stringMatching(/expected order.created v1/),
    });

    const shown = await json<DeadLetter & { body: { eventId: string } }>(
      'dlq',
      'show',
      String(stored.seq),
    );
    expect(shown.body.eventId).toBe(stored.eventId);

    const replayed = await json<{ seq: number; republishedAs: number }[]>(
      'dlq',
      'replay',
      String(stored.seq),
      '--reason',
      'consumer fixed',
    );
    expect(replayed).toMatchObject([{ seq: stored.seq }]);
    const [again] = (await readStream(system.jsm, 'ORDERS', 'order.created.v1')).filter(
      (m) => m.seq === replayed[0]!.republishedAs,
    );
    expect(again?.body.eventId).toBe(stored.eventId);
    expect(
      await system.jsm.streams.getMessage('DLQ', { seq: stored.seq }).catch(() => null),
    ).toBeNull();
    // In the audit trail of the app whose consumer gave up on it.
    expect(await audited('inventory', 'dlq.replay')).toEqual([
      {
        actor: ACTOR,
        tenant_id: 'default',
        action: 'dlq.replay',
        entity_type: 'message',
        entity_id: `ORDERS/${stored.sequence}`,
        result: 'success',
        reason: 'consumer fixed',
        request_id: expect.stringMatching(/^cli-/) as unknown,
        details: expect.objectContaining({
          dlqSeq: stored.seq,
          subject: 'order.created.v1',
          consumer: 'inventory__order_created_v1',
          republishedAs: replayed[0]!.republishedAs,
        }) as unknown,
      },
    ]);
  });

  it('lists and replays the dead letters of one consumer only, with --consumer', async () => {
    const mine = await deadLetter();
    // Another consumer's: the order app cannot read an inventory.reserved of an unknown version.
    const foreign = {
      ...createEvent(InventoryReservedV1, {
        reservationId: randomUUID(),
        orderId: randomUUID(),
        lines: [],
        totalMinor: 0,
        currency: 'EUR',
        expiresAt: new Date().toISOString(),
      }),
      eventVersion: 9,
    };
    const sent = await system.js.publish('inventory.reserved.v1', JSON.stringify(foreign), {
      msgID: randomUUID(),
    });
    const theirs = await eventually(async () =>
      (await json<{ seq: number; sequence: number; consumer: string }[]>('dlq', 'list')).find(
        (l) => l.sequence === sent.seq && l.consumer === 'order__inventory_reserved_v1',
      ),
    );
    const consumer = ['--consumer', 'inventory__order_created_v1'];
    const listed = await json<{ seq: number; consumer: string }[]>('dlq', 'list', ...consumer);
    expect(listed.map((l) => l.seq)).toContain(mine.seq);
    expect(listed.map((l) => l.consumer)).not.toContain('order__inventory_reserved_v1');
    const replayed = await json<{ seq: number }[]>('dlq', 'replay', '--all', ...consumer);
    expect(replayed.map((r) => r.seq)).toEqual(listed.map((l) => l.seq));
    // The other consumer's letter is still there (and goes, for the purge case below).
    expect((await json<{ seq: number }[]>('dlq', 'list')).map((l) => l.seq)).toContain(theirs.seq);
    await system.jsm.streams.deleteMessage('DLQ', theirs.seq);
  });

  it('purges the dead letters with one audit record per consumer', async () => {
    const letters = [await deadLetter(), await deadLetter()];
    const [purged] = await json<{ purged: number }[]>('dlq', 'purge');
    expect(purged!.purged).toBeGreaterThanOrEqual(2);
    expect(await json<unknown[]>('dlq', 'list')).toEqual([]);
    const [record] = await audited('inventory', 'dlq.purge');
    expect(record).toMatchObject({
      actor: ACTOR,
      tenant_id: null,
      entity_type: 'consumer',
      entity_id: 'inventory__order_created_v1',
      result: 'success',
      reason: null,
      details: {
        stream: 'ORDERS',
        letters: purged!.purged,
        dlqSeqs: expect.arrayContaining(letters.map((l) => l.seq)) as unknown,
      },
    });
  });

  it('replays a stream to a new durable consumer from a sequence, audited in the owning app', async () => {
    const { state } = await system.jsm.streams.info('ORDERS');
    const [created] = await json<{ consumer: string; pending: number }[]>(
      'replay',
      'ORDERS',
      '--from-seq',
      String(state.first_seq),
      '--subject',
      'order.created.v1',
      '--to-consumer',
      'replay-cli',
    );
    const all = await readStream(system.jsm, 'ORDERS', 'order.created.v1');
    expect(created).toEqual({ stream: 'ORDERS', consumer: 'replay-cli', pending: all.length });
    expect(
      (await cli('replay', 'ORDERS', '--from-seq', '1', '--to-consumer', 'replay-cli')).code,
    ).toBe(1);
    expect(await audited('orders', 'stream.replay')).toEqual([
      expect.objectContaining({
        actor: ACTOR,
        entity_type: 'consumer',
        entity_id: 'replay-cli',
        result: 'success',
        details: {
          stream: 'ORDERS',
          subject: 'order.created.v1',
          fromSeq: state.first_seq,
          sinceMs: null,
          pending: all.length,
        },
      }),
    ]);
  });

  it('audits a replay the server refuses as failed, with its error', async () => {
    const result = await cli(
      'replay',
      'ORDERS',
      '--since',
      '1h',
      '--subject',
      'inventory.reserved.v1',
      '--to-consumer',
      'replay-wrong-subject',
    );
    expect(result.code).toBe(1);
    const records = await audited('orders', 'stream.replay');
    expect(records.filter((r) => r.entity_id === 'replay-wrong-subject')).toEqual([
      expect.objectContaining({
        actor: ACTOR,
        result: 'failed',
        reason: expect.stringContaining('cannot create consumer replay-wrong-subject') as unknown,
      }),
    ]);
  });

  it('cannot replay with an app’s NATS user: replays are the operator’s', async () => {
    const result = await cliWith(
      system.nats.env('order'),
      'replay',
      'ORDERS',
      '--since',
      '1h',
      '--to-consumer',
      'replay-as-order',
    );
    expect(result.code).toBe(1);
    // Its inbox or the consumer creation: the server refuses either way.
    expect(result.stderr).toMatch(/Permissions Violation/);
    expect(
      await system.jsm.consumers.info('ORDERS', 'replay-as-order').catch(() => null),
    ).toBeNull();
  });

  it('changes nothing when the audit trail cannot be written', async () => {
    const result = await cliWith(
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' },
      'replay',
      'ORDERS',
      '--since',
      '1h',
      '--to-consumer',
      'replay-unaudited',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot write the order app's audit trail");
    expect(
      await system.jsm.consumers.info('ORDERS', 'replay-unaudited').catch(() => null),
    ).toBeNull();
  });

  it('republishes with the original event ids, which the server de-duplicates inside its window', async () => {
    const before = (await system.jsm.streams.info('INVENTORY')).state.messages;
    const [result] = await json<{ republished: number; duplicates: number }[]>(
      'replay',
      'INVENTORY',
      '--since',
      '1h',
      '--republish',
    );
    expect(result).toEqual({ stream: 'INVENTORY', republished: 0, duplicates: before });
    expect((await system.jsm.streams.info('INVENTORY')).state.messages).toBe(before);
    expect(await audited('inventory', 'stream.replay')).toEqual([
      expect.objectContaining({
        actor: ACTOR,
        entity_type: 'stream',
        entity_id: 'INVENTORY',
        result: 'success',
        details: expect.objectContaining({ republished: 0, duplicates: before }) as unknown,
      }),
    ]);
  });

  it('republishes each message of the range once, without reading back what it republished', async () => {
    // Without a message id the server stores every copy: a replay that read its own copies back
    // would republish them again.
    const subject = 'inventory.low-stock.v1';
    const sent = 1200;
    for (let i = 0; i < sent; i++) {
      const event = createEvent(InventoryLowStockV1, {
        sku: `REPLAY-${i}`,
        available: 1,
        threshold: 2,
      });
      await system.js.publish(subject, JSON.stringify(event));
    }
    const storedBefore = (await system.jsm.streams.info('INVENTORY', { subjects_filter: subject }))
      .state.subjects?.[subject];
    const [result] = await json<{ republished: number; duplicates: number }[]>(
      'replay',
      'INVENTORY',
      '--since',
      '1h',
      '--subject',
      subject,
      '--republish',
    );
    expect(result).toEqual({ stream: 'INVENTORY', republished: storedBefore, duplicates: 0 });
    const storedAfter = (await system.jsm.streams.info('INVENTORY', { subjects_filter: subject }))
      .state.subjects?.[subject];
    expect(storedAfter).toBe(2 * storedBefore!);
  });

  it('takes the actor from the OS user without SAGA_CLI_ACTOR', async () => {
    await deadLetter();
    expect((await cliWith({ SAGA_CLI_ACTOR: '' }, 'dlq', 'purge')).code).toBe(0);
    const records = await audited('inventory', 'dlq.purge');
    expect(records.at(-1)).toMatchObject({ actor: userInfo().username });
  });

  it('mints a development token that the apps accept, with the roles asked for', async () => {
    const operator = await cli('token', '--sub', 'ops-bob', '--roles', 'operator', '--ttl', '5m');
    expect(operator.code).toBe(0);
    const token = operator.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const audit = (bearer: string) =>
      fetch(`${system.inventory.url}/audit?limit=1`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
    expect((await audit(token)).status).toBe(200);
    const customer = await json<{ token: string; tenantId: string; expiresAt: string }>(
      'token',
      '--sub',
      'alice',
      '--roles',
      'customer',
      '--tenant',
      't1',
    );
    expect(customer.tenantId).toBe('t1');
    expect(Date.parse(customer.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect((await audit(customer.token)).status).toBe(403);
  });

  it('refuses to mint a token under NODE_ENV=production, in one line', async () => {
    const result = await cliWith(
      { NODE_ENV: 'production' },
      'token',
      '--sub',
      'alice',
      '--roles',
      'customer',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'saga-cli: token mints development tokens only and is refused with NODE_ENV=production: get tokens from your identity provider\n',
    );
  });

  it.each([
    [['--roles', 'customer'], 'token needs --sub'],
    [['--sub', 'alice'], 'token needs --roles'],
    [['--sub', 'alice', '--roles', 'customer,admin'], 'unknown role admin'],
    [['--sub', 'alice', '--roles', 'customer', '--tenant', 'a b'], 'bad tenantId'],
    [['--sub', 'alice', '--roles', 'customer', '--ttl', 'forever'], '--ttl takes a duration'],
  ])('refuses token %j as bad usage', async (args, message) => {
    const result = await cli('token', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  describe('saga actions, through the order app', () => {
    // Several CLI runs each, and each run compiles the CLI (swc) first: slow on a busy machine.
    const SLOW = 240_000;

    /** The CLI as an operator of the default tenant, pointed at the system's order app. */
    const asOperator = async (...args: string[]) =>
      cliWith(
        {
          SAGA_CLI_TOKEN: await tokenFor('ops-cli', ['operator']),
          ORDER_API_URL: system.order.url,
        },
        ...args,
      );

    it(
      'retries, then force-cancels a saga awaiting payment: the stock comes back; resolve is refused',
      async () => {
        await system.putProduct('CLI-ACT', 5, 900);
        const orderId = await system.placeOrder([{ sku: 'CLI-ACT', quantity: 2 }]);
        await system.untilSaga(orderId, 'PAYMENT_PENDING');

        const retried = await asOperator(
          'saga',
          'retry',
          orderId,
          '--reason',
          'payment lost it',
          '--json',
        );
        expect(retried).toMatchObject({ code: 0 });
        expect(JSON.parse(retried.stdout)).toEqual([
          expect.objectContaining({
            order: orderId,
            action: 'retry',
            from: 'PAYMENT_PENDING',
            to: 'PAYMENT_PENDING',
            event: 'order.payment-requested.v1',
          }),
        ]);
        const cancelled = await asOperator('saga', 'cancel', orderId);
        expect(cancelled).toMatchObject({ code: 0 });
        expect(cancelled.stdout).toContain('COMPENSATING');
        await system.untilSaga(orderId, 'CANCELLED');
        expect(await system.product('CLI-ACT')).toMatchObject({ available: 5, reserved: 0 });

        // The cancel's event delivered again (a replay: same event id, another message) is skipped.
        const [cancel] = await system.events('ORDERS', orderId, 'order.cancelled.v1');
        const seq = await publishEvent(system.js, cancel!, { asCopy: true });
        await untilHandled(system.jsm, 'inventory', 'order.cancelled.v1', seq);
        expect(await system.events('INVENTORY', orderId, 'inventory.released.v1')).toHaveLength(1);
        expect(await system.product('CLI-ACT')).toMatchObject({ available: 5, reserved: 0 });

        const refused = await asOperator('saga', 'resolve', orderId, '--reason', 'nothing to do');
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('SAGA.ACTION_NOT_ALLOWED');
        const records = await query<{ actor: string; action: string; reason: string | null }>(
          `SELECT actor, action, reason FROM orders.audit_log
          WHERE action LIKE 'saga.%' AND details ->> 'orderId' = $1 ORDER BY id`,
          [orderId],
        );
        expect(records).toEqual([
          { actor: 'ops-cli', action: 'saga.retry', reason: 'payment lost it' },
          { actor: 'ops-cli', action: 'saga.cancel', reason: null },
        ]);
      },
      SLOW,
    );

    it(
      'acts in bulk on exactly the sagas its dry run listed',
      async () => {
        await system.putProduct('CLI-BULK', 10, 300);
        for (let i = 0; i < 2; i++) {
          const orderId = await system.placeOrder([{ sku: 'CLI-BULK', quantity: 1 }]);
          await system.untilSaga(orderId, 'PAYMENT_PENDING');
        }
        const args = ['sagas', 'bulk', 'cancel', '--state', 'PAYMENT_PENDING', '--json'];
        const dry = await asOperator(...args, '--dry-run');
        expect(dry).toMatchObject({ code: 0 });
        const listed = JSON.parse(dry.stdout) as { matched: number; sagaIds: string[] };
        expect(listed.matched).toBeGreaterThanOrEqual(2);

        const applied = await asOperator(...args, '--reason', 'cli bulk');
        expect(applied).toMatchObject({ code: 0 });
        expect(JSON.parse(applied.stdout)).toMatchObject({
          dryRun: false,
          matched: listed.matched,
          applied: listed.matched,
          sagaIds: listed.sagaIds,
        });
        const text = await asOperator(
          'sagas',
          'bulk',
          'cancel',
          '--state',
          'PAYMENT_PENDING',
          '--dry-run',
        );
        expect(text.stdout).toContain('would cancel 0 of 0');
        // Filtered by the reason a saga was cancelled or failed for: one awaiting payment has none.
        const waiting = await system.placeOrder([{ sku: 'CLI-BULK', quantity: 1 }]);
        await system.untilSaga(waiting, 'PAYMENT_PENDING');
        const dryRun = (...filter: string[]) =>
          asOperator(
            'sagas',
            'bulk',
            'cancel',
            '--state',
            'PAYMENT_PENDING',
            ...filter,
            '--dry-run',
          );
        expect((await dryRun()).stdout).toContain('would cancel 1 of 1');
        expect((await dryRun('--saga-reason', 'payment-timeout')).stdout).toContain(
          'would cancel 0 of 0',
        );
      },
      SLOW,
    );

    it(
      'says what is wrong with exit codes: usage, not found, refused',
      async () => {
        const withoutToken = await cli('saga', 'retry', randomUUID());
        expect(withoutToken.code).toBe(2);
        expect(withoutToken.stderr).toContain('SAGA_CLI_TOKEN');
        expect((await asOperator('saga', 'retry', randomUUID())).code).toBe(3);
        expect((await asOperator('sagas', 'bulk', 'cancel')).code).toBe(2);
        expect((await asOperator('sagas', 'bulk', 'cancel', '--state', 'NOPE')).code).toBe(2);
        const customer = await cliWith(
          {
            SAGA_CLI_TOKEN: await tokenFor('customer-1', ['customer']),
            ORDER_API_URL: system.order.url,
          },
          'saga',
          'cancel',
          randomUUID(),
        );
        expect(customer.code).toBe(1);
        expect(customer.stderr).toContain('AUTH.FORBIDDEN');
      },
      SLOW,
    );
  });

  it('answers with meaningful exit codes', async () => {
    expect((await cli('saga', 'show', randomUUID())).code).toBe(3);
    expect((await cli('dlq', 'show', '999999')).code).toBe(3);
    expect((await cli('replay', 'ORDERS', '--republish')).code).toBe(2);
    expect((await cli('nonsense')).code).toBe(2);
    expect((await cli('streams', '--unknown-flag')).code).toBe(2);
  });
});
