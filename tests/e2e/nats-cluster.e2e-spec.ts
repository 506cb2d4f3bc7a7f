import { spawnScript } from '../harness/app-process';
import { query, TEST_DATABASE_URL } from '../harness/database';
import { TestNatsCluster } from '../harness/nats-cluster';
import { SagaSystem } from '../harness/saga-system';
import { eventually, sleep } from '../harness/wait';

/** Failover timings for whoever reads the run, as plain lines (Jest's console.log adds a call site). */
const report = (line: string) => process.stdout.write(`nats-cluster: ${line}\n`);

const SKUS = ['CLUSTER-1', 'CLUSTER-2', 'CLUSTER-3', 'CLUSTER-4'];
const STOCK = 10_000;
/** Moderate and bounded: about 10 orders a second, never more than this many in all. */
const ORDER_EVERY_MS = 100;
const MAX_ORDERS = 500;
const STREAMS = ['ORDERS', 'INVENTORY', 'PAYMENTS'];

/** A row of `saga-cli streams --json`: blank cells are left out. */
interface StreamsRow {
  stream: string;
  consumer?: string;
  leader?: string;
  lagging?: string;
}

interface Placed {
  orderId: string;
  sku: string;
  quantity: number;
}

describe('the saga on a three-node JetStream cluster with R3 streams', () => {
  let cluster: TestNatsCluster;
  let system: SagaSystem;

  beforeAll(async () => {
    cluster = await TestNatsCluster.start(3);
    const r3 = { NATS_STREAM_REPLICAS: '3' };
    system = await SagaSystem.start({ natsUrls: cluster.urls, order: r3, inventory: r3 });
    for (const sku of SKUS) await system.putProduct(sku, STOCK);
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
    await cluster?.destroy();
  });

  it('completes every order exactly once through the loss of the ORDERS leader and then of another server', async () => {
    for (const stream of STREAMS) {
      expect((await system.jsm.streams.info(stream)).config.num_replicas).toBe(3);
    }
    const load = startLoad(system);
    await eventually(async () => (await completedCount()) >= 20, {
      timeoutMs: 30_000,
      what: 'the first 20 sagas to complete',
    });

    const firstVictim = await cluster.untilStreamLeader('ORDERS');
    const first = await loseServer(firstVictim);
    await cluster.start(firstVictim);
    const caughtUp = await timed(() =>
      Promise.all(STREAMS.map((stream) => cluster.untilStreamCurrent(stream))),
    );
    report(`${firstVictim} restarted: every replica current after ${caughtUp} ms`);

    // The leader elected in its place: another server, which leads ORDERS and clients use.
    const secondVictim = await cluster.untilStreamLeader('ORDERS');
    expect(secondVictim).not.toBe(firstVictim);
    const second = await loseServer(secondVictim);

    const placed = await load.stop();
    await cluster.start(secondVictim);
    report(
      `${placed.length} orders placed (${load.refused()} refused); ORDERS leader lost twice: ` +
        `new leader after ${first.electedMs} / ${second.electedMs} ms, ` +
        `an order placed after the kill completed in ${first.completedMs} / ${second.completedMs} ms`,
    );

    expect(load.refused()).toBe(0);
    const ids = placed.map((order) => order.orderId);
    const drained = await timed(() =>
      eventually(
        async () => {
          const rows = await query<{ n: number }>(
            `SELECT count(*)::int AS n FROM orders.sagas WHERE order_id = ANY($1) AND state = 'COMPLETED'`,
            [ids],
          );
          return rows[0]?.n === ids.length;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `all ${ids.length} sagas to complete` },
      ),
    );
    report(`every saga COMPLETED ${drained} ms after the load stopped`);

    // One completion per saga.
    const completions = await query<{ order_id: string; n: number }>(
      `SELECT s.order_id, count(*)::int AS n FROM orders.saga_steps st
         JOIN orders.sagas s ON s.id = st.saga_id
        WHERE st.to_state = 'COMPLETED' GROUP BY s.order_id HAVING count(*) <> 1`,
    );
    expect(completions).toEqual([]);

    // Inventory commits once it hears of the completion: then one committed reservation per
    // order, stock balanced per SKU, and committed exactly what the completed orders bought.
    await eventually(
      async () => {
        const reservations = await query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM inventory.reservations GROUP BY status`,
        );
        expect(reservations).toEqual([{ status: 'COMMITTED', n: ids.length }]);

        for (const sku of SKUS) {
          const product = await system.product(sku);
          const bought = placed
            .filter((order) => order.sku === sku)
            .reduce((sum, order) => sum + order.quantity, 0);
          expect(product.available + product.reserved + product.committed).toBe(STOCK);
          expect(product).toMatchObject({ reserved: 0, committed: bought });
        }
        return true;
      },
      { timeoutMs: 30_000, what: 'every reservation committed and stock balanced on every SKU' },
    );

    // The relays published everything, and every consumer caught up on the new leaders. An ack
    // sent while its consumer's leader changed can be lost: the message then comes back after
    // the apps' ack wait (NATS_ACK_WAIT_MS, 30 s), is found in the inbox and acked, so wait
    // past it. A failure names what is behind.
    await eventually(
      async () => {
        for (const schema of ['orders', 'inventory']) {
          const [unpublished] = await query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${schema}.outbox WHERE published_at IS NULL`,
          );
          if (unpublished?.n !== 0) throw new Error(`${unpublished?.n} unpublished in ${schema}`);
        }
        for (const stream of STREAMS) {
          for await (const consumer of system.jsm.consumers.list(stream)) {
            if (consumer.num_pending + consumer.num_ack_pending > 0) {
              throw new Error(
                `${stream}/${consumer.name}: ${consumer.num_pending} pending, ` +
                  `${consumer.num_ack_pending} awaiting ack`,
              );
            }
          }
        }
        return true;
      },
      { timeoutMs: 45_000, intervalMs: 250, what: 'outboxes drained and nothing pending' },
    );

    // The restarted server caught up, and the operator's CLI shows who leads what.
    await Promise.all(STREAMS.map((stream) => cluster.untilStreamCurrent(stream)));
    const cli = spawnScript(
      'tools/cli/main.ts',
      { NATS_URL: cluster.urls, DATABASE_URL: TEST_DATABASE_URL },
      ['streams', '--json'],
    );
    expect(await cli.exited).toBe(0);
    const rows = JSON.parse(cli.output().stdout) as StreamsRow[];
    for (const stream of STREAMS) {
      const row = rows.find((candidate) => candidate.stream === stream && !candidate.consumer);
      expect(row).toEqual(expect.objectContaining({ leader: await cluster.streamLeader(stream) }));
      expect(row?.lagging).toBeUndefined();
    }
    const consumers = rows.filter((row) => row.consumer);
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) expect(consumer.leader).toMatch(/^n[123]$/);
  }, 195_000);

  /**
   * Kills a server mid-load and measures how long ORDERS goes without a leader, and how long an
   * order placed right after the kill takes to complete (relay, consumers and replies included).
   */
  async function loseServer(name: string): Promise<{ electedMs: number; completedMs: number }> {
    const killedAt = Date.now();
    await cluster.kill(name);
    const probe = system.placeOrder([{ sku: SKUS[0]!, quantity: 1 }]);
    await cluster.untilStreamLeader('ORDERS', name);
    const electedMs = Date.now() - killedAt;
    const orderId = await probe;
    probes.push({ orderId, sku: SKUS[0]!, quantity: 1 });
    await system.untilSaga(orderId, 'COMPLETED', 60_000);
    const completedMs = Date.now() - killedAt;
    report(`${name} killed: ORDERS leader in ${electedMs} ms, probe order in ${completedMs} ms`);
    return { electedMs, completedMs };
  }

  const probes: Placed[] = [];

  /** Places an order every ORDER_EVERY_MS (without waiting for the last) until stopped. */
  function startLoad(target: SagaSystem): { stop: () => Promise<Placed[]>; refused: () => number } {
    const placed: Placed[] = [];
    const inFlight: Promise<void>[] = [];
    let refused = 0;
    let running = true;
    const loop = (async () => {
      for (let i = 0; running && i < MAX_ORDERS; i++) {
        const sku = SKUS[i % SKUS.length]!;
        const quantity = (i % 3) + 1;
        inFlight.push(
          target.placeOrder([{ sku, quantity }]).then(
            (orderId) => void placed.push({ orderId, sku, quantity }),
            () => void refused++,
          ),
        );
        await sleep(ORDER_EVERY_MS);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        await Promise.all(inFlight);
        return [...placed, ...probes];
      },
      refused: () => refused,
    };
  }

  async function completedCount(): Promise<number> {
    const rows = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders.sagas WHERE state = 'COMPLETED'`,
    );
    return rows[0]?.n ?? 0;
  }
});

async function timed(action: () => Promise<unknown>): Promise<number> {
  const startedAt = Date.now();
  await action();
  return Date.now() - startedAt;
}
