import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { spawnScript } from '../harness/app-process';
import { TEST_DATABASE_URL } from '../harness/database';
import { canConnect, freePort } from '../harness/nats-server';
import { killOnExit } from '../harness/orphans';
import { eventually } from '../harness/wait';

/*
 * `npm run dev` and `npm run demo` as a newcomer runs them, on a machine where nothing answers on
 * the configured Postgres and NATS ports: dev must start its own nats-server and an embedded
 * Postgres, the demo's three sagas must end where they should, and Ctrl-C must leave nothing
 * running.
 */
const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

function startDev(env: Record<string, string>) {
  const dev = spawnScript('tools/dev/dev.ts', env);
  return { ...dev, stderr: () => dev.output().stderr };
}

type DevEnv = Record<
  | 'DATABASE_URL'
  | 'NATS_URL'
  | 'ORDER_PORT'
  | 'PAYMENT_PORT'
  | 'INVENTORY_PORT'
  | 'TRADING_PORT'
  | 'CONSOLE_PORT'
  | 'STRIPE_LOCAL_PORT'
  | 'LOG_LEVEL',
  string
>;

/** Ports nothing listens on, so dev has to start every service itself. */
async function isolatedEnvironment(): Promise<DevEnv> {
  const [pg, nats, order, payment, inventory, trading, consolePort, stripe] = await Promise.all(
    Array.from({ length: 8 }, () => freePort()),
  );
  if (!stripe) throw new Error('no free ports');
  return {
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pg}/saga_dev`,
    NATS_URL: `nats://127.0.0.1:${nats}`,
    ORDER_PORT: String(order),
    PAYMENT_PORT: String(payment),
    INVENTORY_PORT: String(inventory),
    TRADING_PORT: String(trading),
    CONSOLE_PORT: String(consolePort),
    STRIPE_LOCAL_PORT: String(stripe),
    LOG_LEVEL: 'warn',
  };
}

/** The command lines of a process's children. */
function childCommands(pid: number): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        // The parent's pid is the second field after the command name, which may hold spaces.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === pid
          ? [readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')]
          : [];
      } catch {
        return []; // exited meanwhile
      }
    });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/**
 * What dev prints once ready: a token per role that the running apps accept (a role without the
 * permission gets 403, not 401), a curl that works as printed, and how to mint more tokens.
 */
async function expectWorkingTokens(stderr: string, env: DevEnv): Promise<void> {
  const tokens: Record<string, string> = {};
  for (const [, role, token] of stderr.matchAll(/^ {2}(\w+) +\S+ +(\S+\.\S+\.\S+)$/gm))
    tokens[role!] = token!;
  expect(Object.keys(tokens).sort()).toEqual(['customer', 'merchant', 'operator', 'trader']);
  const audit = `http://127.0.0.1:${env.ORDER_PORT}/audit`;
  const as = (role: string) => ({ headers: { authorization: `Bearer ${tokens[role]}` } });
  expect((await fetch(audit, as('operator'))).status).toBe(200);
  for (const role of ['customer', 'merchant', 'trader'])
    expect((await fetch(audit, as(role))).status).toBe(403);
  expect((await fetch(audit)).status).toBe(401);

  const curl = /^ {2}curl -H "Authorization: Bearer (\S+)" (http\S+)$/m.exec(stderr);
  expect(curl?.[1]).toBe(tokens.merchant);
  const product = await fetch(curl![2]!, { headers: { authorization: `Bearer ${curl![1]}` } });
  expect(product.status).toBe(200);
  expect(await product.json()).toMatchObject({ sku: 'DEMO-TEE' });
  expect(stderr).toContain('npm run -s cli -- token --sub');
}

/**
 * The console dev prints: it answers, and the platform-operator token dev printed signs in to it
 * (through the sign-in form, as a browser would post it).
 */
async function expectWorkingConsole(stderr: string, env: DevEnv): Promise<void> {
  const consoleUrl = `http://127.0.0.1:${env.CONSOLE_PORT}`;
  expect(stderr).toContain(`operators' console: ${consoleUrl}`);
  const token = /^ {2}platform-operator +\S+ +(\S+\.\S+\.\S+)$/m.exec(stderr)?.[1];
  expect(token).toBeDefined();
  const form = await fetch(`${consoleUrl}/login`);
  const csrf = /console_csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')![1]!;
  const signedIn = await fetch(`${consoleUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `console_csrf=${csrf}`,
    },
    body: new URLSearchParams({ _csrf: csrf, token: token! }),
  });
  expect(signedIn.status).toBe(303);
  const cookie = signedIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const sagas = await fetch(`${consoleUrl}/sagas`, { headers: { cookie } });
  expect(sagas.status).toBe(200);
  expect(await sagas.text()).toContain('<h1>Sagas</h1>');
}

describe('npm run dev and npm run demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'saga-dev-'));
  // As root, the embedded Postgres runs as the `postgres` user, which must reach its data folder.
  chmodSync(dataDir, 0o755);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts the platform with its own NATS and embedded Postgres, runs the demo, and stops everything on Ctrl-C', async () => {
    const env = { ...(await isolatedEnvironment()), DEV_DATA_DIR: dataDir };
    const dev = startDev(env);
    try {
      await eventually(() => dev.stderr().includes('dev: ready') || dev.child.exitCode !== null, {
        timeoutMs: 180_000,
        intervalMs: 250,
        what: 'npm run dev to be ready',
      });
      expect(dev.stderr()).toContain('dev: ready');
      expect(dev.stderr()).toContain('starting an embedded Postgres');
      expect(dev.stderr()).toMatch(/starting .*nats-server with JetStream/);
      // Its nats-server has the generated users: the apps are in as themselves, strangers are not.
      await expect(connect({ servers: env.NATS_URL, reconnect: false })).rejects.toThrow(
        /Authorization Violation/,
      );
      await expectWorkingTokens(dev.stderr(), env);
      await expectWorkingConsole(dev.stderr(), env);

      const demo = await run(process.execPath, ['-r', '@swc-node/register', 'tools/dev/demo.ts'], {
        cwd: ROOT,
        env: { ...process.env, ...env },
      });
      expect(demo.stdout).toMatch(/ok +pays with 4242[^\n]*\n[^\n]*saga COMPLETED/);
      expect(demo.stdout).toMatch(/ok +card declined[^\n]*\n[^\n]*saga CANCELLED/);
      expect(demo.stdout).toMatch(/ok +product sold out[^\n]*\n[^\n]*saga CANCELLED/);
      expect(demo.stdout).not.toMatch(/^FAIL/m);
    } finally {
      dev.child.kill('SIGINT');
    }
    expect(await dev.exited).toBe(0);
    const ports = [
      portOf(env.DATABASE_URL),
      portOf(env.NATS_URL),
      ...[env.ORDER_PORT, env.PAYMENT_PORT, env.INVENTORY_PORT, env.TRADING_PORT].map(Number),
      Number(env.CONSOLE_PORT),
      Number(env.STRIPE_LOCAL_PORT),
    ];
    for (const port of ports) expect(await canConnect(port)).toBe(false);
  }, 300_000);

  it('start:all runs the compiled apps, with a nats-server of the generated users and the local Stripe server, and names its mode', async () => {
    const env = {
      ...(await isolatedEnvironment()),
      // The machine's Postgres: dev's embedded one is covered above.
      DATABASE_URL: TEST_DATABASE_URL,
      DEV_DATA_DIR: dataDir,
      // As a newcomer's shell has it (Jest sets test).
      NODE_ENV: 'development',
    };
    // Builds dist/ first when it is missing.
    const startAll = killOnExit(
      spawn('bash', ['infra/local/start-all.sh'], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    let stderr = '';
    startAll.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => startAll.once('exit', resolve));
    try {
      await eventually(() => stderr.includes('start:all: ready') || startAll.exitCode !== null, {
        timeoutMs: 540_000,
        intervalMs: 250,
        what: 'npm run start:all to be ready',
      });
      expect(stderr).toContain('start:all: ready');
      expect(stderr).toMatch(/^start:all: NODE_ENV=development: DEVELOPMENT MODE/m);
      expect(stderr).toContain(
        `local Stripe-compatible server on http://127.0.0.1:${env.STRIPE_LOCAL_PORT}`,
      );
      await expect(connect({ servers: env.NATS_URL, reconnect: false })).rejects.toThrow(
        /Authorization Violation/,
      );
      // Its apps and the console are the compiled ones, as the images run them.
      const apps = childCommands(startAll.pid!).filter((command) => command.includes('main.js'));
      expect(apps).toHaveLength(5);
      for (const app of ['order', 'payment', 'inventory', 'trading', 'console'])
        expect(apps.filter((command) => command.includes(`dist/apps/${app}/`))).toHaveLength(1);
      await expectWorkingTokens(stderr, env);
      await expectWorkingConsole(stderr, env);
      const demo = await run(process.execPath, ['-r', '@swc-node/register', 'tools/dev/demo.ts'], {
        cwd: ROOT,
        env: { ...process.env, ...env },
      });
      expect(demo.stdout).toMatch(/ok +pays with 4242[^\n]*\n[^\n]*saga COMPLETED/);
      expect(demo.stdout).not.toMatch(/^FAIL/m);
    } finally {
      startAll.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    for (const port of [
      portOf(env.NATS_URL),
      Number(env.ORDER_PORT),
      Number(env.CONSOLE_PORT),
      Number(env.STRIPE_LOCAL_PORT),
    ])
      expect(await canConnect(port)).toBe(false);
  }, 600_000);

  it('fails with a message naming what is missing when NATS is neither running nor installed', async () => {
    const env = { ...(await isolatedEnvironment()), DEV_DATA_DIR: dataDir };
    const dev = startDev({
      ...env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/saga_dev',
      NATS_SERVER_BIN: join(dataDir, 'no-such-nats-server'),
    });
    expect(await dev.exited).toBe(1);
    expect(dev.stderr()).toContain(
      `NATS_SERVER_BIN=${join(dataDir, 'no-such-nats-server')} does not exist`,
    );
    expect(await canConnect(Number(env.ORDER_PORT))).toBe(false);
  }, 60_000);

  it('reads .env, and tells the user to start the platform when the demo finds no order app', async () => {
    const { ORDER_PORT: orderPort } = await isolatedEnvironment();
    // The folder npm runs the demo in (the repository's root) has the .env that moved the port.
    const folder = mkdtempSync(join(tmpdir(), 'saga-demo-'));
    writeFileSync(join(folder, '.env'), `ORDER_PORT=${orderPort}\n`);
    try {
      const demo = run(
        process.execPath,
        ['-r', require.resolve('@swc-node/register'), join(ROOT, 'tools/dev/demo.ts')],
        {
          cwd: folder,
          // Only the .env names the port.
          env: {
            ...process.env,
            ORDER_PORT: undefined,
            SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          },
        },
      );
      await expect(demo).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(
          `the order app does not answer at http://127.0.0.1:${orderPort}; start the platform with \`npm run dev\` first`,
        ) as unknown,
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);
});
