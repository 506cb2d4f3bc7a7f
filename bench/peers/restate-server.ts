import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../tests/harness/nats-server';
import { killOnExit } from '../../tests/harness/orphans';
import { eventually } from '../../tests/harness/wait';

export interface RestateServer {
  ingressUrl: string;
  /** The server process (benchmarks meter its CPU). */
  pid: number;
  /** The tail of what the server logged (warnings and errors). */
  output(): string;
  /** Registers the service endpoint at `uri` (what `restate deployments register` does). */
  register(uri: string): Promise<void>;
  /** Kills the server and deletes its storage. */
  stop(): Promise<void>;
}

/**
 * restate-server from its npm package, single node, its defaults but the ports (free ones on
 * 127.0.0.1) and telemetry (off), with a fresh store in a temporary directory. The binary is
 * spawned itself, not through the package's Node wrapper, so its pid is the server's.
 */
export async function startRestateServer(): Promise<RestateServer> {
  const binary = require.resolve(
    `@restatedev/restate-server-${platform()}-${arch()}/bin/restate-server`,
  );
  const baseDir = mkdtempSync(join(tmpdir(), 'bench-restate-'));
  const [ingress, admin, node] = [await freePort(), await freePort(), await freePort()];
  const configFile = join(baseDir, 'restate.toml');
  writeFileSync(
    configFile,
    [
      `bind-address = "127.0.0.1:${node}"`,
      `advertised-address = "http://127.0.0.1:${node}/"`,
      'disable-telemetry = true',
      '[ingress]',
      `bind-address = "127.0.0.1:${ingress}"`,
      '[admin]',
      `bind-address = "127.0.0.1:${admin}"`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child = killOnExit(
    spawn(binary, ['--config-file', configFile, '--base-dir', baseDir, '--listen-mode', 'tcp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RESTATE_LOG_FORMAT: 'compact', RESTATE_LOG_FILTER: 'warn' },
    }),
  );
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `http://127.0.0.1:${admin}`;
  try {
    await waitForPort(admin, 60_000, '127.0.0.1', 'restate-server admin');
    await eventually(async () => (await fetch(`${adminUrl}/health`)).ok, {
      timeoutMs: 60_000,
      what: 'restate-server to be healthy',
    });
    await waitForPort(ingress, 60_000, '127.0.0.1', 'restate-server ingress');
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\nrestate-server said:\n${output}`);
  }
  return {
    ingressUrl: `http://127.0.0.1:${ingress}`,
    pid: child.pid!,
    output: () => output,
    register: async (uri) => {
      const answer = await fetch(`${adminUrl}/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri }),
      });
      if (!answer.ok) {
        throw new Error(`registering ${uri} answered ${answer.status}: ${await answer.text()}`);
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
