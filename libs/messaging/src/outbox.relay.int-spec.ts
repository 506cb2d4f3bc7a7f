import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createEvent, EventEnvelope, InventoryLowStockV1 } from '@lib/contracts';
import { tracingOn } from '@lib/observability';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { developmentPassword, OPERATOR_USER } from '../../../infra/nats/permissions';
import { readStream } from '../../../tests/harness/streams';
import { eventually, sleep } from '../../../tests/harness/wait';
import { MESSAGING_DEFAULTS, MessagingOptions } from './messaging.options';
import { NatsClient } from './nats.client';
import { Outbox } from './outbox';
import { OutboxPublisher } from './outbox.publisher';
import { OutboxRelay } from './outbox.relay';
import { messagingDataSource } from '../test/messaging-data-source';

const SCHEMA = 'messaging_outbox_test';

describe('Outbox relay and publisher', () => {
  let nats: TestNatsServer;
  let dataSource: DataSource;
  let client: NatsClient;
  let options: MessagingOptions;
  /** Its publisher is not started: what it commits waits for a relay. */
  let outbox: Outbox;
  let publisher: OutboxPublisher;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    dataSource = await messagingDataSource(SCHEMA);
    // A long poll interval: only an explicit call moves rows, and they are taken at any age.
    options = {
      ...MESSAGING_DEFAULTS,
      service: 'outbox-test',
      natsUrl: nats.url,
      natsIdentity: { user: OPERATOR_USER, password: developmentPassword(OPERATOR_USER) },
      outboxPollMs: 60_000,
      outboxRelayAfterMs: 0,
    };
    client = new NatsClient(options);
    await client.connect();
    publisher = new OutboxPublisher(dataSource, client, options);
    outbox = new Outbox(dataSource, publisher);
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.beforeApplicationShutdown()));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await client?.onApplicationShutdown();
    await nats?.destroy();
  });

  function newRelay(relayOptions: MessagingOptions = options): OutboxRelay {
    const relay = new OutboxRelay(dataSource, publisher, relayOptions);
    relays.push(relay);
    return relay;
  }

  /** An outbox whose process publishes what it commits, as in a running app. */
  function publishingOutbox(): { outbox: Outbox; stop: () => Promise<void> } {
    const started = new OutboxPublisher(dataSource, client, options);
    started.onApplicationBootstrap();
    return {
      outbox: new Outbox(dataSource, started),
      stop: () => started.beforeApplicationShutdown(),
    };
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
    const headersOf = async (eventId: string) => {
      const [stored] = (await readStream(client.jsm, 'INVENTORY')).filter(
        (m) => m.body.eventId === eventId,
      );
      return (await client.jsm.streams.getMessage('INVENTORY', { seq: stored!.seq }))?.header;
    };
    // Published by the relay, from its row.
    const relayed = event('UNTRACED-1');
    await dataSource.transaction((manager) => outbox.add(manager, [relayed]));
    const [row] = await dataSource.query<{ trace_context: unknown }[]>(
      `SELECT trace_context FROM ${SCHEMA}.outbox WHERE event_id = $1`,
      [relayed.eventId],
    );
    expect(row).toEqual({ trace_context: null });
    expect(await newRelay().publishBatch()).toBe(1);
    // Published by the process that committed it.
    const writer = publishingOutbox();
    const published = event('UNTRACED-2');
    await dataSource.transaction((manager) => writer.outbox.add(manager, [published]));
    await eventually(async () => (await copiesInStream(published.eventId)) === 1);
    await writer.stop();
    for (const { eventId, correlationId } of [relayed, published]) {
      const headers = await headersOf(eventId);
      expect(headers?.get('Correlation-Id')).toBe(correlationId);
      expect(headers?.has('traceparent')).toBe(false);
      expect(headers?.has('tracestate')).toBe(false);
    }
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

  it('takes only rows older than outboxRelayAfterMs: younger ones are for their writer to publish', async () => {
    const young = event('YOUNG-1');
    await dataSource.transaction((manager) => outbox.add(manager, [young]));
    expect(await newRelay({ ...options, outboxRelayAfterMs: 60_000 }).publishBatch()).toBe(0);
    expect(await copiesInStream(young.eventId)).toBe(0);
    expect(await newRelay({ ...options, outboxRelayAfterMs: 0 }).publishBatch()).toBe(1);
    expect(await copiesInStream(young.eventId)).toBe(1);
  });

  it('publishes what its own process commits at once, and marks it sent without a relay', async () => {
    const { outbox: publishing, stop } = publishingOutbox();
    try {
      const committed = event('FAST-1');
      await dataSource.transaction((manager) => publishing.add(manager, [committed]));
      await eventually(() => isMarkedSent(committed.eventId), {
        timeoutMs: 10_000,
        what: 'publication without a relay',
      });
      expect(await copiesInStream(committed.eventId)).toBe(1);
      expect(await newRelay().publishBatch()).toBe(0);
    } finally {
      await stop();
    }
  });

  it('publishes nothing of a rolled-back transaction or savepoint, and all of a committed one', async () => {
    const { outbox: publishing, stop } = publishingOutbox();
    const kept = event('SAVEPOINT-KEPT');
    const undone = event('SAVEPOINT-UNDONE');
    const rolledBack = event('FAST-ROLLBACK');
    try {
      await dataSource.transaction(async (manager) => {
        await publishing.add(manager, [kept]);
        await manager
          .transaction(async (nested) => {
            await publishing.add(nested, [undone]);
            throw new Error('inner step failed');
          })
          .catch(() => undefined);
        // Nothing is published before the outer commit.
        expect(await copiesInStream(kept.eventId)).toBe(0);
      });
      await expect(
        dataSource.transaction(async (manager) => {
          await publishing.add(manager, [rolledBack]);
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      await eventually(() => isMarkedSent(kept.eventId), {
        timeoutMs: 10_000,
        what: 'the committed event to be published',
      });
    } finally {
      await stop();
    }
    expect(await copiesInStream(kept.eventId)).toBe(1);
    expect(await copiesInStream(undone.eventId)).toBe(0);
    expect(await copiesInStream(rolledBack.eventId)).toBe(0);
    expect(await newRelay().publishBatch()).toBe(0);
  });

  it('leaves to the relay what its process could not publish, which is then stored once', async () => {
    const { outbox: publishing, stop } = publishingOutbox();
    const unroutable = event('FAST-UNROUTED');
    try {
      // No stream takes this subject: the publish fails, as it would with NATS away.
      unroutable.eventName = 'nowhere.unrouted';
      await dataSource.transaction((manager) => publishing.add(manager, [unroutable]));
      await sleep(500);
    } finally {
      await stop();
    }
    expect(await isMarkedSent(unroutable.eventId)).toBe(false);
    await dataSource.query(
      `UPDATE ${SCHEMA}.outbox SET subject = 'inventory.low-stock.v1' WHERE event_id = $1`,
      [unroutable.eventId],
    );
    expect(await newRelay().publishBatch()).toBe(1);
    expect(await isMarkedSent(unroutable.eventId)).toBe(true);
    expect(await copiesInStream(unroutable.eventId)).toBe(1);
  });

  it('stores a row once when both its writer and a relay publish it', async () => {
    const { outbox: publishing, stop } = publishingOutbox();
    const twice = event('TWICE-1');
    try {
      await dataSource.transaction((manager) => publishing.add(manager, [twice]));
      // The relay claims it before the writer has marked it: both publish.
      await newRelay().publishBatch();
      await eventually(() => isMarkedSent(twice.eventId), { timeoutMs: 10_000, what: 'the mark' });
    } finally {
      await stop();
    }
    expect(await copiesInStream(twice.eventId)).toBe(1);
  });
});
