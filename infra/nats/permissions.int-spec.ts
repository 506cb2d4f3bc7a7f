import { AckPolicy, jetstream, jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { credsAuthenticator, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  DLQ_STREAM,
  EVENT_CATALOG,
  InventoryLowStockV1,
  OrderCreatedV1,
  streamForSubject,
  SUBSCRIPTIONS,
} from '@lib/contracts';
import { durableName, ensureConsumer, ensureStreams } from '@lib/messaging';
import { readRange, streamsOverview } from '@lib/operations';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsAccounts } from '../../tests/harness/nats-accounts';
import { JetStreamClients, startNatsServer, TestNatsServer } from '../../tests/harness/nats-server';
import { APP_USERS, CONSOLE_USER, OPERATOR_USER } from './permissions';

/** The server's answer to a publish (and so a JetStream API call) the user may not make. */
const REFUSED = /Permissions Violation for Publish/;

/** The `order` user's credentials of another operator's accounts. */
async function foreignCreds(): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'saga-foreign-creds-'));
  try {
    return readFileSync((await natsAccounts(dir)).credsFiles.order!);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** Long enough for the server's answer, short enough that a refused request fails the test fast. */
const REFUSED_WITHIN_MS = 1500;

/**
 * The same refusals with the plain configuration (users with passwords, as dev and the tests run)
 * and with NATS accounts (operator mode, user JWTs in `.creds` files, as production runs).
 */
describe.each([
  { mode: 'the generated configuration (passwords)', accounts: false },
  { mode: 'NATS accounts (JWTs, .creds files)', accounts: true },
])('nats-server with $mode', ({ accounts }) => {
  let nats: TestNatsServer;
  let operator: JetStreamClients;
  const connections = new Map<string, NatsConnection>();

  beforeAll(async () => {
    nats = await startNatsServer({ accounts });
    operator = await nats.operator();
    // As `npm run nats:setup` does: every stream and every app's durables.
    await ensureStreams(operator.jsm, 1, OPERATOR_USER);
    for (const [service, subjects] of Object.entries(SUBSCRIPTIONS))
      for (const subject of subjects)
        await ensureConsumer(operator.jsm, service, subject, { maxDeliver: 5, ackWaitMs: 30_000 });
    for (const user of [...APP_USERS, CONSOLE_USER])
      connections.set(user, await nats.connect(user));
  });

  afterAll(async () => {
    await Promise.all([...connections.values()].map((nc) => nc.close()));
    await nats?.destroy();
  });

  const as = (user: string): NatsConnection => connections.get(user)!;
  const managerOf = (user: string): Promise<JetStreamManager> =>
    jetstreamManager(as(user), { timeout: REFUSED_WITHIN_MS });
  const stored = async (stream: string): Promise<number> =>
    (await operator.jsm.streams.info(stream)).state.messages;

  it('refuses an anonymous connection and wrong credentials', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
    const wrong = accounts
      ? // A well-formed user of an account this server's operator never signed.
        { authenticator: credsAuthenticator(await foreignCreds()) }
      : { user: 'order', pass: 'not-the-password' };
    await expect(connect({ servers: nats.url, ...wrong, reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
  });

  it.each(APP_USERS)(
    'lets %s publish its own events, and refuses its publishing another app’s: nothing is stored',
    async (user) => {
      const js = jetstream(as(user), { timeout: REFUSED_WITHIN_MS });
      const own = EVENT_CATALOG.find((e) => streamForSubject(e.subject).producer === user)!;
      const foreign = EVENT_CATALOG.filter((e) => streamForSubject(e.subject).producer !== user);
      const ownStream = streamForSubject(own.subject).name;
      const before = await stored(ownStream);
      await js.publish(own.subject, JSON.stringify({ as: user }));
      expect(await stored(ownStream)).toBe(before + 1);

      for (const event of foreign) {
        const stream = streamForSubject(event.subject).name;
        const count = await stored(stream);
        await expect(js.publish(event.subject, JSON.stringify({ forged: user }))).rejects.toThrow(
          REFUSED,
        );
        expect(await stored(stream)).toBe(count);
      }
    },
  );

  it.each(APP_USERS)(
    'refuses %s another app’s consumers, new consumers, and the dead letters',
    async (user) => {
      const jsm = await managerOf(user);
      const js = jetstream(as(user), { timeout: REFUSED_WITHIN_MS });
      for (const [other, subjects] of Object.entries(SUBSCRIPTIONS)) {
        if (other === user) continue;
        for (const subject of subjects) {
          const stream = streamForSubject(subject).name;
          const durable = durableName(other, subject);
          await expect(jsm.consumers.info(stream, durable)).rejects.toThrow(REFUSED);
          await expect(js.consumers.get(stream, durable)).rejects.toThrow(REFUSED);
        }
      }
      // Reading a stream through a consumer of its own making, or deleting a durable, is not an app's business.
      await expect(
        jsm.consumers.add('ORDERS', { durable_name: `${user}-snoop`, filter_subject: 'order.>' }),
      ).rejects.toThrow(REFUSED);
      await expect(
        jsm.consumers.delete('ORDERS', durableName('inventory', OrderCreatedV1.subject)),
      ).rejects.toThrow(REFUSED);
      await expect(jsm.streams.getMessage('DLQ', { seq: 1 })).rejects.toThrow(REFUSED);
      await expect(jsm.streams.delete('ORDERS')).rejects.toThrow(REFUSED);
    },
  );

  it.each(APP_USERS)('refuses %s a subscription to replies other than its own', async (user) => {
    for (const subject of ['_INBOX.>', '>', 'order.>']) {
      const subscription = as(user).subscribe(subject);
      const drained = (async () => {
        for await (const message of subscription) void message;
      })();
      await expect(drained).rejects.toThrow(/Permissions Violation for Subscription/);
    }
  });

  it('lets the console list streams, read the saga streams and the DLQ, and act on dead letters only', async () => {
    const jsm = await managerOf(CONSOLE_USER);
    const js = jetstream(as(CONSOLE_USER), { timeout: REFUSED_WITHIN_MS });
    const overview = await streamsOverview(jsm);
    expect(overview.map((s) => s.name)).toEqual([
      'DLQ',
      'INVENTORY',
      'ORDERS',
      'PAYMENTS',
      'TRADING',
    ]);
    // A replay: an event some app consumes, published again.
    await js.publish(OrderCreatedV1.subject, JSON.stringify({ replayed: true }));
    const read: string[] = [];
    for await (const message of readRange(js, { stream: 'ORDERS' })) read.push(message.string());
    expect(read).toContain(JSON.stringify({ replayed: true }));
    // Its ordered consumer is gone once read: only the apps' durables are left.
    const left = await operator.jsm.consumers.list('ORDERS').next();
    expect(left.filter((c) => !c.name.includes('__'))).toEqual([]);
    const letter = await operator.js.publish('dlq.ORDERS.probe', JSON.stringify({ dead: true }));
    expect((await jsm.streams.getMessage(DLQ_STREAM, { seq: letter.seq }))?.string()).toBe(
      JSON.stringify({ dead: true }),
    );
    expect(await jsm.streams.deleteMessage(DLQ_STREAM, letter.seq)).toBe(true);
    await operator.js.publish('dlq.ORDERS.probe', JSON.stringify({ dead: 'again' }));
    expect((await jsm.streams.purge(DLQ_STREAM)).purged).toBeGreaterThanOrEqual(1);
  });

  it('refuses the console the apps’ consumers, other events and any change to the event streams', async () => {
    const jsm = await managerOf(CONSOLE_USER);
    const js = jetstream(as(CONSOLE_USER), { timeout: REFUSED_WITHIN_MS });
    const durable = durableName('inventory', OrderCreatedV1.subject);
    await operator.js.publish(OrderCreatedV1.subject, JSON.stringify({ for: 'inventory' }));
    const before = await operator.jsm.consumers.info('ORDERS', durable);
    // Pulling from an app's durable would take its messages: refused, nothing delivered.
    await expect(js.consumers.get('ORDERS', durable)).rejects.toThrow(REFUSED);
    await expect(
      as(CONSOLE_USER).request(
        `$JS.API.CONSUMER.MSG.NEXT.ORDERS.${durable}`,
        JSON.stringify({ batch: 1, expires: 500_000_000 }),
        { timeout: REFUSED_WITHIN_MS },
      ),
    ).rejects.toThrow(REFUSED);
    const after = await operator.jsm.consumers.info('ORDERS', durable);
    expect(after.delivered.stream_seq).toBe(before.delivered.stream_seq);
    expect(after.num_pending).toBe(before.num_pending);
    // Nor may it redefine or delete one.
    await expect(
      jsm.consumers.add('ORDERS', {
        durable_name: durable,
        name: durable,
        ack_policy: AckPolicy.Explicit,
        filter_subject: 'order.>',
      }),
    ).rejects.toThrow(REFUSED);
    await expect(jsm.consumers.delete('ORDERS', durable)).rejects.toThrow(REFUSED);
    // An event no app consumes is no replay.
    const count = await stored('INVENTORY');
    await expect(
      js.publish(InventoryLowStockV1.subject, JSON.stringify({ forged: 'console' })),
    ).rejects.toThrow(REFUSED);
    expect(await stored('INVENTORY')).toBe(count);
    await expect(jsm.streams.purge('ORDERS')).rejects.toThrow(REFUSED);
    await expect(jsm.streams.delete('DLQ')).rejects.toThrow(REFUSED);
    await expect(jsm.streams.deleteMessage('ORDERS', 1)).rejects.toThrow(REFUSED);
    await expect(jsm.streams.getMessage('ORDERS', { seq: 1 })).rejects.toThrow(REFUSED);
    await expect(jsm.consumers.add('TRADING', { ack_policy: AckPolicy.None })).rejects.toThrow(
      REFUSED,
    );
  });

  it('lets an app read and ack its own consumer', async () => {
    const body = JSON.stringify({ by: 'the operator' });
    await operator.js.publish(OrderCreatedV1.subject, body);
    const consumer = await jetstream(as('inventory')).consumers.get(
      'ORDERS',
      durableName('inventory', OrderCreatedV1.subject),
    );
    // Earlier tests published order.created.v1 too: the operator's message is the last one.
    const { num_pending } = await consumer.info();
    const read: string[] = [];
    for (let i = 0; i < num_pending; i++) {
      const message = await consumer.next({ expires: 5000 });
      expect(await message?.ackAck()).toBe(true);
      read.push(message?.string() ?? '');
    }
    expect(read.at(-1)).toBe(body);
  });
});
