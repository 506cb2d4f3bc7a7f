import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnBuilt, startAppProcess } from '../harness/app-process';
import { appDatabaseEnv, consoleDatabaseUrl, freshSchema, query } from '../harness/database';
import { startNatsServer, TestNatsServer } from '../harness/nats-server';

/*
 * What the images run (infra/docker/app.Dockerfile): each app's build of dist/ (`npm run build`)
 * beside the production dependencies only (`npm ci --omit=dev`), in a folder outside this clone so
 * that nothing of its node_modules is in reach. Each app migrates with --setup-only, as the
 * Kubernetes setup Job runs it, then boots and gets ready, as its Deployment runs it; so does the
 * console, which has nothing to set up. The other suites run the TypeScript sources; the
 * production settings' checks are app-boot's.
 */
const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
const APPS = ['order', 'payment', 'inventory', 'trading'] as const;
const SHIPPED = [...APPS, 'console'];
const SCHEMAS = {
  order: 'orders',
  payment: 'payments',
  inventory: 'inventory',
  trading: 'trading',
};

/** Where the build of `app` puts its entry point, below the folder the image copies. */
const mainOf = (app: string) => join('apps', app, 'src', 'main.js');

/** The environment of the tools run here; coverage is for this repository's code, not npm's. */
const toolEnv = { ...process.env, NODE_V8_COVERAGE: undefined };

describe('the build that ships: each app of dist/ with production dependencies only', () => {
  const image = mkdtempSync(join(tmpdir(), 'saga-image-'));
  let nats: TestNatsServer;

  beforeAll(async () => {
    // As start:all: a build that is there is used (CI builds first), else one is made.
    if (SHIPPED.some((app) => !existsSync(join(ROOT, 'dist', 'apps', app, mainOf(app)))))
      await run('npm', ['run', 'build'], { cwd: ROOT, env: toolEnv });
    for (const file of ['package.json', 'package-lock.json'])
      copyFileSync(join(ROOT, file), join(image, file));
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: image,
      env: toolEnv,
    });
    // The image's layout: /app/node_modules, and the app's build in /app/dist.
    for (const app of SHIPPED)
      cpSync(join(ROOT, 'dist', 'apps', app), join(image, app, 'dist'), { recursive: true });
    await Promise.all(Object.values(SCHEMAS).map(freshSchema));
    nats = await startNatsServer();
  }, 600_000);

  afterAll(async () => {
    await nats?.destroy();
    rmSync(image, { recursive: true, force: true });
  });

  it('has the production dependencies only, as the image has them', () => {
    expect(existsSync(join(image, 'node_modules', '@nestjs', 'core'))).toBe(true);
    for (const devDependency of ['jest', '@swc-node/register', 'typescript'])
      expect(existsSync(join(image, 'node_modules', devDependency))).toBe(false);
  });

  it.each(APPS)(
    '%s migrates with --setup-only, then boots and gets ready',
    async (app) => {
      const main = join(image, app, 'dist', mainOf(app));
      const env = { ...nats.env(app), ...(await appDatabaseEnv(app)) };

      const setup = spawnBuilt(main, env, ['--setup-only']);
      // What it said shows when it fails.
      const code = await setup.exited;
      expect({ code, ...setup.output() }).toMatchObject({ code: 0 });
      const migrations = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${SCHEMAS[app]}.migrations`,
      );
      expect(migrations[0]?.n).toBeGreaterThan(0);
      const { jsm } = await nats.operator();
      expect((await jsm.streams.info('DLQ')).config.name).toBe('DLQ');

      const running = await startAppProcess(app, env, { built: main });
      try {
        const ready = await fetch(`${running.url}/health/ready`);
        expect(await ready.json()).toMatchObject({
          status: 'ok',
          info: { database: { status: 'up' }, nats: { status: 'up' } },
        });
      } finally {
        expect(await running.stop()).toBe(0);
      }
    },
    120_000,
  );

  it('console boots and gets ready', async () => {
    const running = await startAppProcess(
      'console',
      {
        ...nats.env('console'),
        DATABASE_URL: await consoleDatabaseUrl(),
        // Its pages call the apps; readiness is NATS alone.
        ORDER_API_URL: 'http://127.0.0.1:9',
        INVENTORY_API_URL: 'http://127.0.0.1:9',
        PAYMENT_API_URL: 'http://127.0.0.1:9',
      },
      { built: join(image, 'console', 'dist', mainOf('console')) },
    );
    try {
      const ready = await fetch(`${running.url}/health/ready`);
      expect(await ready.json()).toMatchObject({ status: 'ok' });
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });
});
