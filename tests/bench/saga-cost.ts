import { join } from 'node:path';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { eventually, sleep } from '../harness/wait';
import { CpuMeter, machineCpuTimes, stolenPercent } from './cpu-meter';

const QUERY_COUNTER = join(__dirname, 'query-counter.ts');

/** Environment for the apps so that `SagaCost` can count their statements. */
export function countingStatements(): { NODE_OPTIONS: string } {
  return {
    NODE_OPTIONS:
      `${process.env.NODE_OPTIONS ?? ''} --require @swc-node/register --require ${QUERY_COUNTER}`.trim(),
  };
}

export interface Cost {
  /** CPU ms of each part of the system (apps, nats-server, their Postgres backends). */
  cpuMs: Record<string, number>;
  /** CPU ms of this process, the load generator, apart from the system it measures. */
  loadGeneratorCpuMs: number;
  /** CPU ms of the stand-in payment participant's process, when it runs as one; also apart. */
  paymentStandInCpuMs: number;
  /** Share of the machine's CPU time the hypervisor gave to other guests meanwhile, in %. */
  stolenPercent: number;
  transactions: number;
  statements: number;
}

/**
 * What the system spends on a piece of work, measured on its own processes so that it survives
 * other load on the machine: CPU time of the order and inventory apps, the nats-server and the
 * Postgres backends serving the test database, plus transactions and statements sent.
 */
export class SagaCost {
  private constructor(
    private readonly system: SagaSystem,
    private readonly db: Client,
  ) {}

  /** Transactions of this watcher itself, left out of the apps' count. */
  private ownTransactions = 0;

  static async open(system: SagaSystem): Promise<SagaCost> {
    const db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    return new SagaCost(system, db);
  }

  async close(): Promise<void> {
    await this.db.end();
  }

  async measure(work: () => Promise<void>): Promise<Cost> {
    const natsPid = this.system.nats.pid;
    const meters: Record<string, CpuMeter> = {
      ...Object.fromEntries(
        Object.entries(this.system.sagaApps()).map(([name, app]) => [
          name,
          new CpuMeter(() => Promise.resolve([app.child.pid!])),
        ]),
      ),
      'nats-server': new CpuMeter(() => Promise.resolve(natsPid ? [natsPid] : [])),
      postgres: new CpuMeter(() => this.backends()),
    };
    const statementsBefore = await this.statements();
    const transactionsBefore = await this.transactions();
    this.ownTransactions = 0;
    const standInPid = this.system.responderProcess?.child.pid;
    const standIn = new CpuMeter(() => Promise.resolve(standInPid ? [standInPid] : []));
    const ownBefore = process.cpuUsage();
    const machineBefore = machineCpuTimes();
    for (const meter of [...Object.values(meters), standIn]) await meter.start();
    const cpuMs: Record<string, number> = {};
    let paymentStandInCpuMs = 0;
    try {
      await work();
    } finally {
      // Stopped even when the work fails, so no sampling outlives the watcher's connection.
      for (const [name, meter] of Object.entries(meters)) cpuMs[name] = await meter.stop();
      paymentStandInCpuMs = await standIn.stop();
    }
    const own = process.cpuUsage(ownBefore);
    return {
      cpuMs,
      loadGeneratorCpuMs: (own.user + own.system) / 1000,
      paymentStandInCpuMs,
      stolenPercent: stolenPercent(machineBefore, machineCpuTimes()),
      transactions: (await this.transactions()) - transactionsBefore - this.ownTransactions,
      statements: (await this.statements()) - statementsBefore,
    };
  }

  /** The backends of the test database but this one (which only watches). */
  private backends(): Promise<number[]> {
    this.ownTransactions++;
    return postgresBackends(this.db);
  }

  /** Committed and rolled back transactions of the apps (statistics lag by up to a second). */
  private async transactions(): Promise<number> {
    await sleep(1500);
    await this.db.query('SELECT pg_stat_clear_snapshot()');
    this.ownTransactions += 2;
    const { rows } = await this.db.query<{ count: string }>(
      `SELECT xact_commit + xact_rollback AS count FROM pg_stat_database WHERE datname = current_database()`,
    );
    return Number(rows[0]!.count);
  }

  /** Statements the app processes have sent so far, as counted by query-counter.ts. */
  private async statements(): Promise<number> {
    let total = 0;
    for (const app of Object.values(this.system.sagaApps())) {
      const counts = () => [...app.stderr().matchAll(/^query-counter: (\d+)$/gm)];
      const before = counts().length;
      process.kill(app.child.pid!, 'SIGUSR2');
      total += await eventually(
        () => {
          const latest = counts()[before];
          return latest && Number(latest[1]);
        },
        { what: `the statement count of ${app.child.pid}` },
      );
    }
    return total;
  }
}

/**
 * The Postgres backends serving `databases` (by default the database `watcher` is connected to),
 * but the watcher's own: what a system under test costs Postgres.
 */
export async function postgresBackends(watcher: Client, databases?: string[]): Promise<number[]> {
  const { rows } = await watcher.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE datname = ANY(COALESCE($1, ARRAY[current_database()])) AND pid <> pg_backend_pid()`,
    [databases ?? null],
  );
  return rows.map((row) => row.pid);
}
