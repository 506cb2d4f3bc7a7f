import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './nats-server';
import { killOnExit } from './orphans';
import { eventually } from './wait';

/**
 * A Postgres cluster of its own (initdb in a temporary directory, a free port), for a suite that
 * stops and starts Postgres: the machine's server is shared by every other suite and must stay up.
 */
export interface TestPostgresCluster {
  /** The superuser `postgres` on `database` (trust authentication, loopback only). */
  url: string;
  port: number;
  /** The postmaster while it runs. */
  readonly pid: number | undefined;
  /** Whether the postmaster exited without `stop()` asking it to. */
  readonly crashed: boolean;
  /** `pg_ctl stop -m <mode>`: `immediate` is a crash (no checkpoint; recovery at the next start). */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Starts the postmaster on the same data directory and port; resolves once it takes queries. */
  start(): Promise<void>;
  /** Stops it and deletes the data directory. */
  destroy(): Promise<void>;
}

/** `PG_BIN_DIR` when set, else `pg_config --bindir`, Debian's newest /usr/lib/postgresql/<v>/bin, the PATH. */
export function postgresBinDir(): string {
  const explicit = process.env.PG_BIN_DIR;
  if (explicit) {
    if (!existsSync(join(explicit, 'initdb')))
      throw new Error(`PG_BIN_DIR=${explicit} has no initdb`);
    return explicit;
  }
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // No pg_config: the other places are tried.
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debian, version, 'bin')));
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter));
  const found = candidates.find((dir) => dir && existsSync(join(dir, 'initdb')));
  if (!found)
    throw new Error(
      'initdb not found: install Postgres (Debian/Ubuntu: apt-get install postgresql) or set PG_BIN_DIR to its bin directory',
    );
  return found;
}

/**
 * Postgres refuses to run as root: then the cluster belongs to, and runs as, the `postgres` system
 * user (which Debian's package creates).
 */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    return { uid, gid };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run Postgres as');
  }
}

export async function startPostgresCluster(database = 'saga'): Promise<TestPostgresCluster> {
  const bin = postgresBinDir();
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'saga-pg-'));
  const dataDir = join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = (command: string, args: string[]) =>
    execFileSync(join(bin, command), args, { cwd: dir, stdio: 'pipe', ...owner });
  // No fsync: the suite kills processes, not the machine, and the page cache outlives a process.
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
  let child: ChildProcess | undefined;
  let stopping = false;
  let crashed = false;

  const start = async (): Promise<void> => {
    stopping = false;
    let stderr = '';
    const postmaster = killOnExit(
      spawn(
        join(bin, 'postgres'),
        [
          ...['-D', dataDir, '-p', String(port), '-k', dir],
          ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=300'],
        ],
        { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...owner },
      ),
    );
    // Only the tail is kept: it says why a start failed.
    postmaster.stderr?.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)),
    );
    postmaster.once('exit', () => {
      if (!stopping) crashed = true;
    });
    child = postmaster;
    const died = new Promise<never>((_, reject) =>
      postmaster.once('exit', (code) =>
        reject(new Error(`postgres exited with ${code}: ${stderr}`)),
      ),
    );
    died.catch(() => undefined);
    await Promise.race([
      died,
      eventually(() => accepts(`postgres://postgres@127.0.0.1:${port}/postgres`), {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `Postgres to accept connections on ${port}`,
      }),
    ]);
  };

  const stop = async (mode: 'immediate' | 'fast' = 'fast'): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    stopping = true;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    run('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w']);
    await exited;
  };

  await start();
  return {
    url,
    port,
    get pid() {
      return child?.pid;
    },
    get crashed() {
      return crashed;
    },
    start,
    stop,
    destroy: async () => {
      await stop('immediate').catch(() => child?.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function accepts(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
