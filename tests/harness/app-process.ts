import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { APP_NODE_FLAGS } from '../../libs/platform/src/node-flags';
import { freePort } from './nats-server';
import { eventually } from './wait';
import { killOnExit } from './orphans';

const ROOT = join(__dirname, '..', '..');

export interface AppProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface ScriptProcess {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** Runs a TypeScript entry point of this repository as its own process, as its npm script would. */
export function spawnScript(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
): ScriptProcess {
  return spawnNode(['-r', '@swc-node/register', script, ...args], env);
}

/** Runs a compiled entry point (an app's `main.js` in dist/) as its own process, as an image does. */
export function spawnBuilt(
  main: string,
  env: Record<string, string>,
  args: string[] = [],
): ScriptProcess {
  return spawnNode([main, ...args], env);
}

function spawnNode(args: string[], env: Record<string, string>): ScriptProcess {
  const child = killOnExit(
    spawn(process.execPath, [...APP_NODE_FLAGS, ...profiling(), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

/**
 * With `CPU_PROFILE_DIR` set, every process started here writes a V8 CPU profile there when it
 * exits (open it in Chrome's DevTools): where a benchmark's CPU goes, per process.
 */
function profiling(): string[] {
  const dir = process.env.CPU_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** Runs `apps/<app>/src/main.ts` as its own process, exactly as `npm run start:<app>` would. */
export function spawnApp(
  app: string,
  env: Record<string, string>,
  args: string[] = [],
): ScriptProcess {
  return spawnScript(join('apps', app, 'src', 'main.ts'), env, args);
}

/**
 * Starts an app process on a free port (or `port`: an app started again where its callers know
 * it) and waits until it answers /health/ready: its TypeScript source, or the compiled `main.js`
 * given as `built`.
 */
export async function startAppProcess(
  app: string,
  env: Record<string, string>,
  { port, built }: { port?: number; built?: string } = {},
): Promise<AppProcess> {
  port ??= await freePort();
  const appEnv = { ...env, PORT: String(port), HTTP_HOST: '127.0.0.1' };
  const { child, output, exited } = built ? spawnBuilt(built, appEnv) : spawnApp(app, appEnv);
  const url = `http://127.0.0.1:${port}`;
  let ready = false;
  const readiness = eventually(
    // A dead child ends the polling too; `diedBooting` reports it.
    async () =>
      child.exitCode !== null ||
      (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200,
    { timeoutMs: 60_000, intervalMs: 200, what: `${app} to be ready` },
  );
  // An app that dies while booting fails the start at once, with what it said.
  const diedBooting = exited.then((code) => {
    if (!ready) throw new Error(`${app} exited with ${code} while booting: ${output().stderr}`);
  });
  readiness.catch(() => undefined);
  diedBooting.catch(() => undefined);
  try {
    await Promise.race([readiness, diedBooting]);
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL');
    // What the app last said is what tells why it never got ready.
    const { stdout, stderr } = output();
    const said = `${stdout}${stderr}`.slice(-3000);
    throw new Error(`${error instanceof Error ? error.message : String(error)}; it said:\n${said}`);
  }
  ready = true;
  return {
    url,
    child,
    stdout: () => output().stdout,
    stderr: () => output().stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
