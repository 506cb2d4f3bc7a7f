import { DataSource, EntityManager } from 'typeorm';
import { createEvent, EventEnvelope, InventoryLowStockV1 } from '@lib/contracts';
import { currentLogContext, withLogContext } from '@lib/observability';
import { query } from '../../../tests/harness/database';
import { PermanentEventError } from './errors';
import { Inbox } from './inbox';
import { JetStreamContext } from './jetstream.context';
import { messagingDataSource } from '../test/messaging-data-source';

const SCHEMA = 'messaging_inbox_test';
const CONSUMER = 'inbox-test';

describe('Inbox.handleOnce', () => {
  let dataSource: DataSource;
  let inbox: Inbox;
  let transactions: jest.SpyInstance;

  beforeAll(async () => {
    dataSource = await messagingDataSource(SCHEMA);
    await query(`CREATE TABLE ${SCHEMA}.effects (event_id uuid NOT NULL)`);
    await query(`CREATE TABLE ${SCHEMA}.accounts (key text PRIMARY KEY)`);
    await query(`INSERT INTO ${SCHEMA}.accounts VALUES ('a'), ('b')`);
    inbox = new Inbox(dataSource);
    // Counts the transactions the inbox opens; they still run.
    transactions = jest.spyOn(dataSource, 'transaction');
  });

  beforeEach(() => transactions.mockClear());

  afterAll(async () => {
    await dataSource?.destroy();
  });

  function lowStock(): EventEnvelope {
    return createEvent(InventoryLowStockV1, { sku: 'INBOX-1', available: 1, threshold: 5 });
  }

  function delivery(): JetStreamContext {
    return new JetStreamContext([
      { message: undefined as never, stream: 'INVENTORY', consumer: CONSUMER },
    ]);
  }

  /** The effect of a consumer that writes a row per event, and answers its event's id. */
  function writeEffect(event: EventEnvelope) {
    return async (manager: EntityManager) => {
      await manager.query(`INSERT INTO ${SCHEMA}.effects (event_id) VALUES ($1)`, [event.eventId]);
      return event.eventId;
    };
  }

  /** Calls handleOnce for each event in one event-loop turn, as the transport's handlers do. */
  function handleTogether(
    events: EventEnvelope[],
    effectOf: (event: EventEnvelope) => (manager: EntityManager) => Promise<string> = writeEffect,
  ) {
    const contexts = events.map(() => delivery());
    const outcomes = Promise.allSettled(
      events.map((event, i) => inbox.handleOnce(contexts[i]!, event, effectOf(event))),
    );
    return { outcomes, contexts };
  }

  async function rowsOf(events: EventEnvelope[]): Promise<number[]> {
    const rows = await query<{ event_id: string; n: number }>(
      `SELECT event_id, count(*)::int AS n FROM ${SCHEMA}.effects GROUP BY event_id`,
    );
    const counts = new Map(rows.map((row) => [row.event_id, row.n]));
    return events.map((event) => counts.get(event.eventId) ?? 0);
  }

  async function recorded(events: EventEnvelope[]): Promise<number> {
    const rows = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])`,
      [CONSUMER, events.map((event) => event.eventId)],
    );
    return rows[0]!.n;
  }

  it('commits the calls of one event-loop turn in one transaction, each with its own result', async () => {
    const events = Array.from({ length: 20 }, lowStock);
    const { outcomes, contexts } = handleTogether(events);
    expect(await outcomes).toEqual(
      events.map((event) => ({ status: 'fulfilled', value: event.eventId })),
    );
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(await rowsOf(events)).toEqual(events.map(() => 1));
    expect(contexts.map((context) => context.duplicate)).toEqual(events.map(() => false));
  });

  it('takes at most 100 calls in a transaction', async () => {
    const events = Array.from({ length: 150 }, lowStock);
    await handleTogether(events).outcomes;
    expect(transactions).toHaveBeenCalledTimes(2);
    expect(await rowsOf(events)).toEqual(events.map(() => 1));
  });

  it('flags a second delivery of an event in the batch as a duplicate, for its caller only', async () => {
    const [first, second] = [lowStock(), lowStock()];
    const { outcomes, contexts } = handleTogether([first, second, first]);
    expect(await outcomes).toEqual([
      { status: 'fulfilled', value: first.eventId },
      { status: 'fulfilled', value: second.eventId },
      { status: 'fulfilled', value: undefined },
    ]);
    expect(contexts.map((context) => context.duplicate)).toEqual([false, false, true]);
    expect(await rowsOf([first, second])).toEqual([1, 1]);
  });

  it('fails only the caller whose effect threw; the others commit once', async () => {
    const events = Array.from({ length: 5 }, lowStock);
    const failing = events[2]!;
    const refusal = new PermanentEventError('order does not exist');
    const { outcomes, contexts } = handleTogether(events, (event) => async (manager) => {
      const id = await writeEffect(event)(manager);
      if (event === failing) throw refusal;
      return id;
    });
    const settled = await outcomes;
    expect(settled[2]).toEqual({ status: 'rejected', reason: refusal });
    expect(settled.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(4);
    // The shared transaction, then each call alone.
    expect(transactions).toHaveBeenCalledTimes(1 + events.length);
    expect(await rowsOf(events)).toEqual([1, 1, 0, 1, 1]);
    expect(await recorded(events)).toBe(4);
    expect(contexts.map((context) => context.duplicate)).toEqual(events.map(() => false));
  });

  it('skips the events of a batch when they are delivered again later', async () => {
    const events = Array.from({ length: 10 }, lowStock);
    await handleTogether(events).outcomes;
    let effects = 0;
    const { outcomes, contexts } = handleTogether(events, () => () => {
      effects++;
      return Promise.resolve('applied again');
    });
    expect(
      (await outcomes).map((outcome) => outcome.status === 'fulfilled' && outcome.value),
    ).toEqual(events.map(() => undefined));
    expect(effects).toBe(0);
    expect(contexts.map((context) => context.duplicate)).toEqual(events.map(() => true));
    expect(await rowsOf(events)).toEqual(events.map(() => 1));
  });

  it("runs each effect in its caller's log context", async () => {
    const events = Array.from({ length: 3 }, lowStock);
    const seen = await Promise.all(
      events.map((event) =>
        withLogContext({ eventId: event.eventId }, () =>
          inbox.handleOnce(delivery(), event, () => Promise.resolve(currentLogContext()?.eventId)),
        ),
      ),
    );
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(events.map((event) => event.eventId));
  });

  it('runs the effects of a batch in the order of their lock keys, so that two batches cannot deadlock', async () => {
    // Two batches of one turn each, locking accounts a and b in opposite delivery orders, each
    // effect holding its lock a while: in delivery order, each batch would wait for the other's.
    const locked: string[] = [];
    const lockAndHold = (key: string) => async (manager: EntityManager) => {
      await manager.query(`SELECT key FROM ${SCHEMA}.accounts WHERE key = $1 FOR UPDATE`, [key]);
      locked.push(key);
      await manager.query('SELECT pg_sleep(0.2)');
      return key;
    };
    const batch = (keys: string[]) =>
      Promise.all(
        keys.map((key) => inbox.handleOnce(delivery(), lowStock(), lockAndHold(key), key)),
      );
    const first = batch(['a', 'b']);
    await new Promise(setImmediate); // the first batch is under way
    const second = batch(['b', 'a']);
    expect(await Promise.all([first, second])).toEqual([
      ['a', 'b'],
      ['b', 'a'],
    ]);
    // Each batch committed at its first attempt: no deadlock aborted one and ran its calls again.
    expect(transactions).toHaveBeenCalledTimes(2);
    expect(locked).toEqual(['a', 'b', 'a', 'b']);
  });
});
