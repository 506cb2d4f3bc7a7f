import { randomUUID } from 'node:crypto';
import { headers, NatsConnection } from '@nats-io/nats-core';
import { ensureStreams } from './stream-setup';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { readStream } from '../../../tests/harness/streams';
import { JetStreamPublisher, PublishFailedError } from './jetstream-publisher';

describe('JetStreamPublisher', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let publisher: JetStreamPublisher;

  beforeAll(async () => {
    nats = await startNatsServer({ permissions: false });
    const { jsm } = await nats.operator();
    await ensureStreams(jsm, 1, 'operator');
    nc = await nats.connect();
    publisher = new JetStreamPublisher(nc, '_INBOX', 300);
  });

  afterAll(async () => {
    publisher?.close();
    await nc?.close();
    await nats?.destroy();
  });

  const body = (eventId: string) => JSON.stringify({ eventId });

  async function copies(eventId: string): Promise<number> {
    const { jsm } = await nats.operator();
    return (await readStream(jsm, 'INVENTORY')).filter((m) => m.body.eventId === eventId).length;
  }

  it('resolves once the stream stores the message, with its id as Nats-Msg-Id', async () => {
    const eventId = randomUUID();
    await publisher.publish('inventory.low-stock.v1', body(eventId), eventId, headers());
    expect(await copies(eventId)).toBe(1);
    const { jsm } = await nats.operator();
    const [stored] = (await readStream(jsm, 'INVENTORY')).filter((m) => m.body.eventId === eventId);
    const message = await jsm.streams.getMessage('INVENTORY', { seq: stored!.seq });
    expect(message?.header.get('Nats-Msg-Id')).toBe(eventId);
  });

  it('resolves for a duplicate of an id inside the window, which the stream stores once', async () => {
    const eventId = randomUUID();
    await Promise.all([
      publisher.publish('inventory.low-stock.v1', body(eventId), eventId, headers()),
      publisher.publish('inventory.low-stock.v1', body(eventId), eventId, headers()),
    ]);
    expect(await copies(eventId)).toBe(1);
  });

  it('rejects at once when no stream takes the subject', async () => {
    const eventId = randomUUID();
    await expect(
      publisher.publish('nowhere.unrouted.v1', body(eventId), eventId, headers()),
    ).rejects.toThrow(PublishFailedError);
  });

  it('rejects when no acknowledgement comes in time', async () => {
    // A plain subscriber takes the subject and never answers.
    const silent = nc.subscribe('silent.subject');
    try {
      const eventId = randomUUID();
      await expect(
        publisher.publish('silent.subject', body(eventId), eventId, headers()),
      ).rejects.toThrow('no acknowledgement within 300 ms');
    } finally {
      silent.unsubscribe();
    }
  });

  it('answers the publishes of one connection each with its own acknowledgement', async () => {
    const ids = Array.from({ length: 500 }, () => randomUUID());
    await Promise.all(
      ids.map((id) => publisher.publish('inventory.low-stock.v1', body(id), id, headers())),
    );
    const { jsm } = await nats.operator();
    const stored = new Set((await readStream(jsm, 'INVENTORY')).map((m) => m.body.eventId));
    expect(ids.filter((id) => !stored.has(id))).toEqual([]);
  });
});
