import { Client } from 'pg';
import { ScriptProcess, spawnScript } from '../../tests/harness/app-process';
import { TEST_DATABASE_URL } from '../../tests/harness/database';
import { KeepAliveFetch } from '../../tests/harness/keep-alive-fetch';
import { freePort } from '../../tests/harness/nats-server';
import { eventually, sleep } from '../../tests/harness/wait';
import { CpuMeter } from '../../tests/bench/cpu-meter';
import { postgresBackends } from '../../tests/bench/saga-cost';
import { runSagaWorkload, SAGA_SKUS, SagaRun, SagaWorkload } from '../../tests/bench/saga-workload';
import { ORDER_TABLES } from './order.store';
import { startRestateServer } from './restate-server';

export type Peer = 'DBOS' | 'Restate';

/** What a saga run cost a system: what bench:peers compares (the platform's Cost has more). */
export interface SystemCost {
  /** CPU ms of each process of the system, Postgres backends together. */
  cpuMs: Record<string, number>;
  /** CPU ms of the load generator (this process), apart from the system. */
  loadGeneratorCpuMs: number;
}

interface RunningPeer {
  frontUrl: string;
  /** The processes to meter, by name. */
  processes: Record<string, number>;
  /** What the processes said last: usually why the work did not finish. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The saga workload on a peer, on the same Postgres server as the platform (databases of its own,
 * made afresh): its process(es) started here, the orders table watched for completed sagas.
 */
export async function runPeerSaga(
  peer: Peer,
  workload: SagaWorkload,
): Promise<SagaRun<SystemCost>> {
  const database = `bench_peers_${peer.toLowerCase()}`;
  const databases = peer === 'DBOS' ? [database, `${database}_sys`] : [database];
  for (const name of databases) await freshDatabase(name);
  // The load generator's one connection to the peer's database: it reads completions and the
  // backends to meter (and is not one of them).
  const watcher = new Client({ connectionString: databaseUrl(database) });
  await watcher.connect();
  let running: RunningPeer | undefined;
  const connections = new KeepAliveFetch(workload.concurrency);
  try {
    await watcher.query(ORDER_TABLES);
    await watcher.query(
      `INSERT INTO products (sku, stock, price_minor) SELECT unnest($1::text[]), 10000000, 999`,
      [SAGA_SKUS],
    );
    running =
      peer === 'DBOS'
        ? await startDbos(databases)
        : await startRestate(database, workload.concurrency);
    const frontUrl = running.frontUrl;
    const completions = watchCompletions(watcher);
    try {
      return await runSagaWorkload(
        {
          placeOrder: async (sku) => {
            const { status, text } = await connections.postJson(`${frontUrl}/orders`, {
              items: [{ sku, quantity: 1 }],
            });
            if (status !== 201) throw new Error(`POST /orders answered ${status}: ${text}`);
            return (JSON.parse(text) as { orderId: string }).orderId;
          },
          completedAt: completions.completedAt,
          measure: (work) => measure(watcher, databases, running!.processes, work),
          analyze: () => analyze(databases),
        },
        workload,
      );
    } catch (error) {
      process.stderr.write(`--- ${peer} output (tail)\n${running.output()}\n`);
      throw error;
    } finally {
      await completions.stop();
    }
  } finally {
    connections.close();
    await running?.stop();
    await watcher.end();
  }
}

/** One Node process: POST /orders and the DBOS runtime; DBOS's tables in a database of their own. */
async function startDbos([database, systemDatabase]: string[]): Promise<RunningPeer> {
  const port = await freePort();
  const app = await startScript('bench/peers/dbos-order-saga.main.ts', {
    PORT: String(port),
    DATABASE_URL: databaseUrl(database!),
    SYSTEM_DATABASE_URL: databaseUrl(systemDatabase!),
  });
  return {
    frontUrl: `http://127.0.0.1:${port}`,
    processes: { 'dbos app': app.child.pid! },
    output: () => app.output().stderr.slice(-4000),
    stop: () => stopScript(app),
  };
}

/** restate-server, and one Node process: POST /orders and the workflow's service endpoint. */
async function startRestate(database: string, concurrency: number): Promise<RunningPeer> {
  const server = await startRestateServer();
  try {
    const [port, sdkPort] = [await freePort(), await freePort()];
    const app = await startScript('bench/peers/restate-order-saga.main.ts', {
      PORT: String(port),
      SDK_PORT: String(sdkPort),
      INGRESS_URL: server.ingressUrl,
      DATABASE_URL: databaseUrl(database),
      INGRESS_CONNECTIONS: String(concurrency),
      RESTATE_LOGGING: 'WARN',
    });
    await server.register(`http://127.0.0.1:${sdkPort}`);
    return {
      frontUrl: `http://127.0.0.1:${port}`,
      processes: { 'restate app': app.child.pid!, 'restate-server': server.pid },
      output: () => `${app.output().stderr.slice(-4000)}\n--- restate-server\n${server.output()}`,
      stop: async () => {
        await stopScript(app);
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Starts a bench entry point and waits for it to print `ready`. */
export async function startScript(
  script: string,
  env: Record<string, string>,
): Promise<ScriptProcess> {
  const app = spawnScript(script, env);
  await eventually(
    () => {
      const { stdout, stderr } = app.output();
      if (app.child.exitCode !== null) {
        throw new Error(`${script} exited with ${app.child.exitCode}: ${stderr}`);
      }
      return stdout.includes('ready');
    },
    { timeoutMs: 60_000, what: `${script} to be ready` },
  );
  return app;
}

/** Stops a bench entry point at once: nothing of it is kept. */
export async function stopScript(app: ScriptProcess): Promise<void> {
  app.child.kill('SIGKILL');
  await app.exited;
}

/**
 * When each saga completed, from the `completed_at` its confirm step wrote (the commit follows at
 * once), read every 100 ms. Rows may commit out of completed_at order, so each read goes back two
 * seconds before the latest completion seen.
 */
function watchCompletions(watcher: Client) {
  const completedAt = new Map<string, number>();
  let latest = 0;
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      const { rows } = await watcher.query<{ id: string; at: number }>(
        `SELECT id, extract(epoch FROM completed_at) * 1000 AS at FROM orders
         WHERE completed_at > to_timestamp($1 / 1000.0) - interval '2 seconds'`,
        [latest],
      );
      for (const { id, at } of rows) {
        completedAt.set(id, Number(at) - performance.timeOrigin);
        latest = Math.max(latest, Number(at));
      }
      await sleep(100);
    }
  })();
  return {
    completedAt,
    stop: async () => {
      stopped = true;
      await polling;
    },
  };
}

async function measure(
  watcher: Client,
  databases: string[],
  processes: Record<string, number>,
  work: () => Promise<void>,
): Promise<SystemCost> {
  const meters: Record<string, CpuMeter> = {
    ...Object.fromEntries(
      Object.entries(processes).map(([name, pid]) => [
        name,
        new CpuMeter(() => Promise.resolve([pid])),
      ]),
    ),
    postgres: new CpuMeter(() => postgresBackends(watcher, databases)),
  };
  const ownBefore = process.cpuUsage();
  for (const meter of Object.values(meters)) await meter.start();
  const cpuMs: Record<string, number> = {};
  try {
    await work();
  } finally {
    for (const [name, meter] of Object.entries(meters)) cpuMs[name] = await meter.stop();
  }
  const own = process.cpuUsage(ownBefore);
  return {
    cpuMs,
    loadGeneratorCpuMs: (own.user + own.system) / 1000,
  };
}

async function analyze(databases: string[]): Promise<void> {
  for (const database of databases) {
    const client = new Client({ connectionString: databaseUrl(database) });
    await client.connect();
    try {
      await client.query('ANALYZE');
    } finally {
      await client.end();
    }
  }
}

function databaseUrl(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function freshDatabase(database: string): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
}
