import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
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

export async function startNatsServer(): Promise<TestNatsServer> {
  const binary = natsServerBinary();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'saga-nats-'));
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    child = killOnExit(
      spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
        stdio: 'ignore',
      }),
    );
    await waitForPort(port, 10_000);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    start,
    stop,
    destroy: async () => {
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
