import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEvent, OrderCreatedV1 } from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { TEST_DATABASE_URL } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { readStream } from '../harness/streams';
import { eventually, sleep } from '../harness/wait';

const ROOT = join(__dirname, '..', '..');

/** The operators' CLI against a running order + inventory system. */
describe('saga-cli', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({ payment: () => 'pending-only' });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['-r', '@swc-node/register', 'tools/cli/main.ts', ...args],
        {
          cwd: ROOT,
          env: { ...process.env, NATS_URL: system.nats.url, DATABASE_URL: TEST_DATABASE_URL },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
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

  it('lists, shows and replays a dead letter onto its original subject', async () => {
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
    const letters = await eventually(async () => {
      const listed = await json<
        { seq: number; sequence: number; consumer: string; error: string }[]
      >('dlq', 'list');
      return listed.find((l) => l.sequence === ack.seq);
    });
    expect(letters).toMatchObject({
      consumer: 'inventory__order_created_v1',
      error: expect.stringMatching(/expected order.created v1/),
    });

    const shown = await json<DeadLetter & { body: { eventId: string } }>(
      'dlq',
      'show',
      String(letters.seq),
    );
    expect(shown.body.eventId).toBe(broken.eventId);

    const replayed = await json<{ seq: number; republishedAs: number }[]>(
      'dlq',
      'replay',
      String(letters.seq),
    );
    expect(replayed).toMatchObject([{ seq: letters.seq }]);
    const [again] = (await readStream(system.jsm, 'ORDERS', 'order.created.v1')).filter(
      (m) => m.seq === replayed[0]!.republishedAs,
    );
    expect(again?.body.eventId).toBe(broken.eventId);
    expect(
      await system.jsm.streams.getMessage('DLQ', { seq: letters.seq }).catch(() => null),
    ).toBeNull();
  });

  it('replays a stream to a new durable consumer from a sequence', async () => {
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
  });

  it('answers with meaningful exit codes', async () => {
    expect((await cli('saga', 'show', randomUUID())).code).toBe(3);
    expect((await cli('dlq', 'show', '999999')).code).toBe(3);
    expect((await cli('replay', 'ORDERS', '--republish')).code).toBe(2);
    expect((await cli('nonsense')).code).toBe(2);
    expect((await cli('streams', '--unknown-flag')).code).toBe(2);
  });
});
