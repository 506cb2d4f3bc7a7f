import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer } from '../../tests/harness/nats-server';
import { cpuMs } from '../../tests/bench/cpu-meter';
import { startScript, stopScript } from './peer-saga';

const STREAM = 'HOPS';
/** Out to the echo process, and back: each with its durable pull consumer. */
const HOP_OUT = { subject: 'hops.out', durable: 'echo' };
const HOP_BACK = { subject: 'hops.back', durable: 'back' };

/** A body the size of the transport benchmark's events. */
const BODY = new Uint8Array(326).fill(0x78);
const WARM_UP_ROUNDS = 300;

/** CPU ms per hop (one publish, its delivery and its ack). */
export interface HopCost {
  total: number;
  /** The two Node processes, which each publish and consume. */
  clients: number;
  natsServer: number;
}

/**
 * What a durable hop costs at a paced rate with nothing but nats.js: this process publishes to
 * HOP_OUT (a JetStream publish, awaiting its ack) `rate` times a second, in batches of `batch`;
 * the echo process (hop-echo.main.ts) consumes each, publishes it to HOP_BACK and acks; this
 * process consumes that and acks. A hop is one publish, one delivery and one ack, as each event of
 * a saga is: what a message costs this machine without the platform's code, alone or travelling
 * with others.
 */
export async function measureHops(rate: number, seconds: number, batch: number): Promise<HopCost> {
  const server = await startNatsServer({ permissions: false });
  const nc = await server.connect();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: [HOP_OUT.subject, HOP_BACK.subject] });
    for (const hop of [HOP_OUT, HOP_BACK]) {
      await jsm.consumers.add(STREAM, {
        durable_name: hop.durable,
        filter_subject: hop.subject,
        ack_policy: AckPolicy.Explicit,
      });
    }
    const echo = await startScript('bench/peers/hop-echo.main.ts', {
      NATS_URL: server.url,
      HOP_STREAM: STREAM,
      HOP_DURABLE: HOP_OUT.durable,
      HOP_REPLY_SUBJECT: HOP_BACK.subject,
    });
    try {
      const js = jetstream(nc);
      let back = 0;
      let onBack = () => {};
      const consumer = await js.consumers.get(STREAM, HOP_BACK.durable);
      const messages = await consumer.consume({ max_messages: 64 });
      void (async () => {
        for await (const message of messages) {
          back++;
          message.ack();
          onBack();
        }
      })();
      const untilBack = (count: number) =>
        new Promise<void>((resolve) => {
          onBack = () => back >= count && resolve();
          onBack();
        });
      for (let i = 0; i < WARM_UP_ROUNDS; i++) await js.publish(HOP_OUT.subject, BODY);
      await untilBack(WARM_UP_ROUNDS);
      const pids = [process.pid, echo.child.pid!, server.pid!];
      const before = pids.map((pid) => cpuMs(pid)!);
      const rounds = Math.ceil((rate * seconds) / batch) * batch;
      const started = performance.now();
      const published: Promise<unknown>[] = [];
      for (let sent = 0; sent < rounds; sent += batch) {
        const wait = started + (sent * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        for (let i = 0; i < batch; i++) published.push(js.publish(HOP_OUT.subject, BODY));
      }
      await Promise.all(published);
      await untilBack(WARM_UP_ROUNDS + rounds);
      const hops = rounds * 2;
      const [self, far, nats] = pids.map((pid, i) => (cpuMs(pid)! - before[i]!) / hops);
      await messages.close();
      return { total: self! + far! + nats!, clients: self! + far!, natsServer: nats! };
    } finally {
      await stopScript(echo);
    }
  } finally {
    await nc.close();
    await server.destroy();
  }
}
