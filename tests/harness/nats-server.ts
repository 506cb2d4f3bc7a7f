import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { inboxPrefixOf } from '@lib/contracts';
import { jetstream, JetStreamClient, jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ConnectionOptions, credsAuthenticator, NatsConnection } from '@nats-io/nats-core';
import {
  developmentPassword,
  NATS_USERS,
  OPERATOR_USER,
  passwordVariable,
  SERVER_CONFIG_PATH,
} from '../../infra/nats/permissions';
import { natsAccounts } from './nats-accounts';
import { killOnExit } from './orphans';

/** A private nats-server with JetStream on a free port and a temporary store, for one suite. */
export interface TestNatsServer {
  url: string;
  port: number;
  /** The server process while it runs (benchmarks meter its CPU). */
  readonly pid: number | undefined;
  /** Kills the server; the store stays, so `start()` brings back every stream and consumer. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its store. */
  destroy(): Promise<void>;
  /** The environment a process needs to connect as `user` (an app's name, or `operator`). */
  env(user: string): Record<string, string>;
  /** A connection as `user`; the test's own connections are the operator's. */
  connect(user?: string, options?: ConnectionOptions): Promise<NatsConnection>;
  /** The test's own JetStream clients, as the operator: one connection, closed by `destroy()`. */
  operator(): Promise<JetStreamClients>;
}

export interface JetStreamClients {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export interface NatsServerOptions {
  /**
   * With the generated configuration (infra/nats/nats-server.conf: one user per app, permissions
   * from the contracts), as in development and production; false: anyone may connect and do anything.
   */
  permissions?: boolean;
  /**
   * The same users and permissions as NATS account users instead (operator mode: JWTs signed by
   * the test, a memory resolver), each connecting with a `.creds` file (NATS_CREDS), as production.
   */
  accounts?: boolean;
  /** Appended to the configuration, e.g. a `tls { }` block. */
  extraConfig?: string;
}

/** The passwords the generated configuration reads from the server's environment. */
export function developmentPasswords(): Record<string, string> {
  return Object.fromEntries(
    NATS_USERS.map((user) => [passwordVariable(user), developmentPassword(user)]),
  );
}

/**
 * The environment of a nats-server started on the machine the apps and Postgres run on (tests,
 * benchmarks, `npm run dev`): one Go scheduler thread (`GOMAXPROCS=1`) unless the caller's
 * environment sets it. With one per core, Go wakes an idle thread for nearly every goroutine that
 * becomes ready: at 150 sagas/s on a 2-core machine the server switched context 2,900 times a
 * second, half of the whole machine's switches, and each one is CPU the apps were waiting for
 * (docs/performance.md). A server on machines of its own keeps Go's default.
 */
export function natsServerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { GOMAXPROCS: '1', ...process.env, ...extra };
}

/** `NATS_SERVER_BIN` when set (and then only it), else the usual install paths and the PATH. */
export function natsServerBinary(): string {
  const explicit = process.env.NATS_SERVER_BIN;
  const candidates = explicit
    ? [explicit]
    : [
        '/usr/sbin/nats-server',
        '/usr/bin/nats-server',
        '/usr/local/bin/nats-server',
        ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'nats-server')),
      ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      explicit
        ? `NATS_SERVER_BIN=${explicit} does not exist`
        : 'nats-server not found: install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server) or set NATS_SERVER_BIN to its path',
    );
  }
  return found;
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<TestNatsServer> {
  const { permissions = true, accounts: withAccounts = false, extraConfig = '' } = options;
  const binary = natsServerBinary();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'saga-nats-'));
  const configFile = join(storeDir, 'nats-server.conf');
  const accounts = withAccounts ? await natsAccounts(storeDir) : undefined;
  const base =
    accounts?.config ??
    (permissions ? readFileSync(SERVER_CONFIG_PATH, 'utf8') : 'jetstream: enabled\n');
  writeFileSync(configFile, `${base}${extraConfig}`);
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const args = ['-c', configFile, '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
    child = killOnExit(
      spawn(binary, args, { stdio: 'ignore', env: natsServerEnv(developmentPasswords()) }),
    );
    await waitForPort(port, 10_000);
  };
  /** How `user` logs in: a process's variables and a client's options for the same identity. */
  const credentials = (
    user: string,
  ): { env: Record<string, string>; options: ConnectionOptions } => {
    if (accounts) {
      const file = accounts.credsFiles[user];
      if (!file) throw new Error(`no NATS account user ${user}`);
      const options = { authenticator: credsAuthenticator(readFileSync(file)) };
      return { env: { NATS_CREDS: file }, options };
    }
    if (!permissions) return { env: {}, options: {} };
    const pass = developmentPassword(user);
    return { env: { NATS_USER: user, NATS_PASSWORD: pass }, options: { user, pass } };
  };
  const env = (user: string): Record<string, string> => ({
    NATS_URL: url,
    ...credentials(user).env,
  });
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };

  const connectAs = (user = OPERATOR_USER, connectOptions: ConnectionOptions = {}) =>
    connect({
      servers: url,
      ...credentials(user).options,
      inboxPrefix: inboxPrefixOf(user),
      ...connectOptions,
    });
  let operator: Promise<JetStreamClients> | undefined;

  await start();
  return {
    url,
    port,
    env,
    connect: connectAs,
    operator: () =>
      (operator ??= connectAs(OPERATOR_USER, { maxReconnectAttempts: -1 }).then(async (nc) => ({
        nc,
        js: jetstream(nc),
        jsm: await jetstreamManager(nc),
      }))),
    get pid() {
      return child?.pid;
    },
    start,
    stop,
    destroy: async () => {
      await (await operator?.catch(() => undefined))?.nc.close();
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export async function waitForPort(
  port: number,
  timeoutMs: number,
  host = '127.0.0.1',
  what = 'nats-server',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(port, host)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/** True when something accepts TCP connections on host:port. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, host);
  });
}
