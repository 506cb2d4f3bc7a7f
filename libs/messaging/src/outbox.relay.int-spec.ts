import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createEvent, EventEnvelope, InventoryLowStockV1 } from '@lib/contracts';
import { tracingOn } from '@lib/observability';
import { openAppDataSource } from '@lib/persistence';
import { freshSchema, TEST_DATABASE_URL } from '../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { developmentPassword, OPERATOR_USER } from '../../../infra/nats/permissions';
import { readStream } from '../../../tests/harness/streams';
import { eventually } from '../../../tests/harness/wait';
import { MESSAGING_ENTITIES, MESSAGING_MIGRATIONS } from './index';
import { MESSAGING_DEFAULTS, MessagingOptions } from './messaging.options';
import { NatsClient } from './nats.client';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox.relay';

const SCHEMA = 'messaging_outbox_test';

describe('Outbox relay', () => {
  let nats: TestNatsServer;
  let dataSource: DataSource;
  let client: NatsClient;
  let options: MessagingOptions;
  let outbox: Outbox;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    dataSource = await openAppDataSource({
      url: TEST_DATABASE_URL,
      schema: SCHEMA,
      entities: MESSAGING_ENTITIES,
      migrations: MESSAGING_MIGRATIONS,
    });
    outbox = new Outbox(dataSource);
    // A long poll interval: only LISTEN/NOTIFY or an explicit call moves rows.
    options = {
      ...MESSAGING_DEFAULTS,
      service: 'outbox-test',
      natsUrl: nats.url,
      natsIdentity: { user: OPERATOR_USER, password: developmentPassword(OPERATOR_USER) },
      outboxPollMs: 60_000,
    };
    client = new NatsClient(options);
    await client.connect();
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.beforeApplicationShutdown()));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await client?.onApplicationShutdown();
    await nats?.destroy();
  });

  function newRelay(): OutboxRelay {
    const relay = new OutboxRelay(dataSource, client, options);
    relays.push(relay);
    return relay;
  }

  function event(sku: string): EventEnvelope {
    return createEvent(
      InventoryLowStockV1,
      { sku, available: 1, threshold: 2 },
      { correlationId: randomUUID() },
    );
  }

  async function copiesInStream(eventId: string): Promise<number> {
    const messages = await readStream(client.jsm, 'INVENTORY');
    return messages.filter((m) => m.body.eventId === eventId).length;
  }

  async function isMarkedSent(eventId: string): Promise<boolean> {
    const rows: { published_at: Date | null }[] = await dataSource.query(
      `SELECT published_at FROM ${SCHEMA}.outbox WHERE event_id = $1`,
      [eventId],
    );
    return rows[0]?.published_at != null;
  }

  it('publishes nothing from a rolled-back transaction', async () => {
    const rolledBack = event('ROLLBACK-1');
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.add(manager, [rolledBack]);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await newRelay().publishBatch()).toBe(0);
    expect(await copiesInStream(rolledBack.eventId)).toBe(0);
  });

  it('publishes a committed event exactly once, with its id, correlation and body', async () => {
    const committed = event('COMMIT-1');
    await dataSource.transaction((manager) => outbox.add(manager, [committed]));
    expect(await newRelay().publishBatch()).toBe(1);
    expect(await newRelay().publishBatch()).toBe(0);
    const [stored] = (await readStream(client.jsm, 'INVENTORY')).filter(
      (m) => m.body.eventId === committed.eventId,
    );
    expect(stored?.subject).toBe('inventory.low-stock.v1');
    expect(stored?.body).toEqual(committed);
    const message = await client.jsm.streams.getMessage('INVENTORY', { seq: stored!.seq });
    expect(message?.header.get('Nats-Msg-Id')).toBe(committed.eventId);
    expect(message?.header.get('Correlation-Id')).toBe(committed.correlationId);
  });

  it('with tracing off, stores no trace context and sends no traceparent or tracestate', async () => {
    expect(tracingOn()).toBe(false);
    const untraced = event('UNTRACED-1');
    await dataSource.transaction((manager) => outbox.add(manager, [untraced]));
    const [row] = await dataSource.query<{ trace_context: unknown }[]>(
      `SELECT trace_context FROM ${SCHEMA}.outbox WHERE event_id = $1`,
      [untraced.eventId],
    );
    expect(row).toEqual({ trace_context: null });
    expect(await newRelay().publishBatch()).toBe(1);
    const [stored] = (await readStream(client.jsm, 'INVENTORY')).filter(
      (m) => m.body.eventId === untraced.eventId,
    );
    const message = await client.jsm.streams.getMessage('INVENTORY', { seq: stored!.seq });
    expect(message?.header.get('Correlation-Id')).toBe(untraced.correlationId);
    expect(message?.header.has('traceparent')).toBe(false);
    expect(message?.header.has('tracestate')).toBe(false);
  });

  it('publishes in the order the rows were written, wherever they lie in the table', async () => {
    const sequence = [event('ORDERED-1'), event('ORDERED-2'), event('ORDERED-3')];
    for (const e of sequence) await dataSource.transaction((manager) => outbox.add(manager, [e]));
    // An updated row moves behind the others in the table, and the claim returns table order.
    await dataSource.query(
      `UPDATE ${SCHEMA}.outbox SET correlation_id = correlation_id WHERE event_id = $1`,
      [sequence[0]!.eventId],
    );
    expect(await newRelay().publishBatch()).toBe(3);
    const ids = new Set(sequence.map((e) => e.eventId));
    const published = (await readStream(client.jsm, 'INVENTORY')).filter((m) =>
      ids.has(m.body.eventId),
    );
    expect(published.map((m) => m.body.eventId)).toEqual(sequence.map((e) => e.eventId));
  });

  it('publishes once when the relay dies after publishing and before committing', async () => {
    const crashing = event('CRASH-1');
    await dataSource.transaction((manager) => outbox.add(manager, [crashing]));
    // The relay's commit fails after JetStream has acked: the same state a crash leaves behind.
    await dataSource.query(`
      CREATE FUNCTION ${SCHEMA}.refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'relay crashed'; END $$`);
    await dataSource.query(
      `CREATE CONSTRAINT TRIGGER refuse_commit AFTER UPDATE ON ${SCHEMA}.outbox
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.refuse_commit()`,
    );
    await expect(newRelay().publishBatch()).rejects.toThrow('relay crashed');
    expect(await copiesInStream(crashing.eventId)).toBe(1);
    expect(await isMarkedSent(crashing.eventId)).toBe(false);

    await dataSource.query(`DROP TRIGGER refuse_commit ON ${SCHEMA}.outbox`);
    expect(await newRelay().publishBatch()).toBe(1);
    expect(await isMarkedSent(crashing.eventId)).toBe(true);
    expect(await copiesInStream(crashing.eventId)).toBe(1);
  });

  it('leaves the whole batch pending when a publish fails', async () => {
    const sent = event('FAILED-BATCH-1');
    const unroutable = event('FAILED-BATCH-2');
    await dataSource.transaction((manager) => outbox.add(manager, [sent, unroutable]));
    // No stream takes this subject, so JetStream refuses the publish.
    await dataSource.query(
      `UPDATE ${SCHEMA}.outbox SET subject = 'nowhere.unrouted.v1' WHERE event_id = $1`,
      [unroutable.eventId],
    );
    await expect(newRelay().publishBatch()).rejects.toThrow();
    expect(await isMarkedSent(sent.eventId)).toBe(false);
    expect(await isMarkedSent(unroutable.eventId)).toBe(false);

    await dataSource.query(`DELETE FROM ${SCHEMA}.outbox WHERE event_id = $1`, [
      unroutable.eventId,
    ]);
    expect(await newRelay().publishBatch()).toBe(1);
    expect(await isMarkedSent(sent.eventId)).toBe(true);
    expect(await copiesInStream(sent.eventId)).toBe(1);
  });

  it('lets several relays drain one outbox without publishing a row twice', async () => {
    const events = Array.from({ length: 600 }, (_, i) => event(`MANY-${i}`));
    await dataSource.transaction((manager) => outbox.add(manager, events));
    const racers = [newRelay(), newRelay(), newRelay()];
    const drain = async (relay: OutboxRelay) => {
      let total = 0;
      for (let n = await relay.publishBatch(); n > 0; n = await relay.publishBatch()) total += n;
      return total;
    };
    const counts = await Promise.all(racers.map(drain));
    // Every row was claimed by exactly one relay (the server's de-duplication would hide a double publish).
    expect(counts.reduce((a, b) => a + b, 0)).toBe(600);
    const ids = new Set(events.map((e) => e.eventId));
    const published = (await readStream(client.jsm, 'INVENTORY')).filter((m) =>
      ids.has(m.body.eventId),
    );
    expect(published).toHaveLength(600);
  });

  it('is woken by the commit itself, without waiting for the poll', async () => {
    const relay = newRelay();
    await relay.onApplicationBootstrap();
    const woken = event('NOTIFY-1');
    await dataSource.transaction((manager) => outbox.add(manager, [woken]));
    await eventually(() => isMarkedSent(woken.eventId), {
      timeoutMs: 10_000,
      what: 'publication without a poll',
    });
    expect(await copiesInStream(woken.eventId)).toBe(1);
  });

  it('claims the rows committed during its batch window together', async () => {
    const relay = new OutboxRelay(dataSource, client, { ...options, batchWindowMs: 1000 });
    relays.push(relay);
    await relay.onApplicationBootstrap();
    const events = ['WINDOW-1', 'WINDOW-2', 'WINDOW-3'].map(event);
    for (const each of events)
      await dataSource.transaction((manager) => outbox.add(manager, [each]));
    await eventually(
      async () => (await Promise.all(events.map((e) => isMarkedSent(e.eventId)))).every(Boolean),
      {
        timeoutMs: 10_000,
        what: 'the three rows to be published',
      },
    );
    // One claim marks its rows in one transaction, so they share its now().
    const claims: { count: number }[] = await dataSource.query(
      `SELECT count(DISTINCT published_at)::int AS count FROM ${SCHEMA}.outbox WHERE event_id = ANY($1)`,
      [events.map((e) => e.eventId)],
    );
    expect(claims[0]!.count).toBe(1);
  });
});
