import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CONSOLE_SERVICE } from '@lib/contracts';
import { DEV_DATABASE_URL } from '@lib/platform';
import { APP_NODE_FLAGS } from '../../libs/platform/src/node-flags';
import { DEV_STRIPE_SECRET_KEY } from '../../apps/payment/src/config';
import {
  devAppDatabaseUrl,
  devConsoleDatabaseUrl,
  ensureDevRoles,
} from '../../infra/postgres/app-roles';
import { CliError } from '../cli/cli-io';
import { mintDevelopmentToken } from '../cli/token.command';
import { startStripeLocal } from '../stripe-local/stripe-local.server';
import { eventually } from '../../tests/harness/wait';
import {
  APPS,
  AppName,
  DEMO_PRODUCTS,
  DEV_PRINCIPALS,
  DevEnvironment,
  devEnvironment,
  loadDotEnv,
  modeLine,
  usesRealStripe,
} from './dev-environment';
import {
  DEFAULT_NATS_URL,
  ensureNats,
  ensurePostgres,
  natsPassword,
  OWN_NATS_URL,
  StartedService,
} from './local-services';

/*
 * npm run dev: the whole platform on this machine in one command. Uses the machine's Postgres and
 * NATS when they answer (NATS with users: a server that lets anyone in is avoided unless NATS_URL
 * names it), else starts them (nats-server with the generated users and a store in .dev/, an
 * embedded Postgres); runs the local Stripe-compatible server (unless real Stripe keys are set),
 * the four apps from source (each migrates its schema and creates its streams and consumers at
 * boot) and the operators' console, then adds the demo products (as a merchant) and prints the
 * console's URL and development tokens to call the apps with. Ctrl-C, or any of them exiting,
 * stops everything it started.
 *
 * With --built (`npm run start:all`): the same with the compiled apps of dist/, as they ship.
 */
const ROOT = join(__dirname, '..', '..');
const BUILT = process.argv.includes('--built');
const NAME = BUILT ? 'start:all' : 'dev';

const log = (message: string): void => {
  process.stderr.write(`${NAME}: ${message}\n`);
};

/** The processes dev runs: the four apps and the console. */
type Process = AppName | typeof CONSOLE_SERVICE;

/** How to run an app: its TypeScript source, or with --built its compiled entry point. */
function appCommand(app: Process): string[] {
  return BUILT
    ? [...APP_NODE_FLAGS, join('dist', 'apps', app, 'apps', app, 'src', 'main.js')]
    : [...APP_NODE_FLAGS, '-r', '@swc-node/register', join('apps', app, 'src', 'main.ts')];
}

/** Long enough for a working day; `npm run cli -- token` mints others. */
const DEV_TOKEN_TTL_S = 12 * 3600;

async function main(): Promise<number> {
  loadDotEnv();
  const env = devEnvironment();
  // The superuser's: it makes the app roles, and migrates unless DATABASE_MIGRATION_URL is set.
  const databaseUrl = process.env.DATABASE_URL ?? DEV_DATABASE_URL;
  // Without NATS_URL, a machine's server that lets anyone in is avoided (OWN_NATS_URL instead).
  const natsOwnUrl = process.env.NATS_URL ? undefined : OWN_NATS_URL;
  let natsUrl = process.env.NATS_URL ?? DEFAULT_NATS_URL;
  const dataDir = process.env.DEV_DATA_DIR ?? join(ROOT, '.dev');

  const started: StartedService[] = [];
  const children = new Map<Process, ChildProcess>();
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([...children.values()].map(stopChild));
      for (const service of started.reverse()) await service.stop();
    })());

  const signalled = new Promise<number>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => {
        log(`${signal}: stopping`);
        resolve(0);
      });
  });

  log(modeLine());
  try {
    const postgres = await ensurePostgres(databaseUrl, dataDir, log);
    if (postgres) started.push(postgres);
    const nats = await ensureNats(natsUrl, dataDir, log, natsOwnUrl);
    if (nats.started) started.push(nats.started);
    natsUrl = nats.url;
    await ensureDevRoles(databaseUrl);
    log('Postgres roles: each app serves as its own (order_app, ...), migrations run as the owner');
    const stripeEnv = await stripeFor(env, started);

    const appEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_MIGRATION_URL: process.env.DATABASE_MIGRATION_URL ?? databaseUrl,
      NATS_URL: natsUrl,
      STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY ?? DEV_STRIPE_SECRET_KEY,
      STRIPE_WEBHOOK_SECRET: env.webhookSecret,
      ...stripeEnv,
    };
    for (const app of APPS) {
      const child = spawn(process.execPath, appCommand(app), {
        cwd: ROOT,
        // Each app is its own NATS user, with the permissions infra/nats/nats-server.conf gives it.
        env: {
          ...appEnv,
          DATABASE_URL: devAppDatabaseUrl(databaseUrl, app),
          PORT: String(env.appPorts[app]),
          NATS_USER: app,
          NATS_PASSWORD: natsPassword(app),
        },
        stdio: 'inherit',
      });
      children.set(app, child);
    }
    // The console: the apps' APIs, NATS as its own user, Postgres as its own role (audit only).
    children.set(
      CONSOLE_SERVICE,
      spawn(process.execPath, appCommand(CONSOLE_SERVICE), {
        cwd: ROOT,
        env: {
          ...appEnv,
          DATABASE_URL: devConsoleDatabaseUrl(databaseUrl),
          PORT: String(env.consolePort),
          ORDER_API_URL: env.appUrls.order,
          PAYMENT_API_URL: env.appUrls.payment,
          INVENTORY_API_URL: env.appUrls.inventory,
          NATS_USER: CONSOLE_SERVICE,
          NATS_PASSWORD: natsPassword(CONSOLE_SERVICE),
        },
        stdio: 'inherit',
      }),
    );
    const exited = Promise.race(
      [...children].map(
        ([app, child]) =>
          new Promise<number>((resolve) =>
            child.once('exit', (code) => {
              if (!stopping) log(`${app} exited with ${code}: stopping the platform`);
              resolve(code || 1);
            }),
          ),
      ),
    );

    const ready = (async () => {
      await Promise.all([
        ...APPS.map((app) => untilReady(app, env.appUrls[app])),
        untilReady(CONSOLE_SERVICE, env.consoleUrl),
      ]);
      const tokens = await developmentTokens(appEnv);
      if (tokens) await addDemoProducts(env.appUrls.inventory, tokens.merchant);
      const stripe = usesRealStripe() ? 'Stripe: the real API' : `Stripe ${env.stripeLocalUrl}`;
      log(
        `ready: ${APPS.map((app) => `${app} ${env.appUrls[app]}`).join(', ')}; ${stripe}; NATS ${natsUrl}.`,
      );
      log(`operators' console: ${env.consoleUrl} (sign in with the platform-operator token below)`);
      if (tokens) process.stderr.write(howToCall(env, tokens));
      log('Try `npm run demo`. Ctrl-C stops everything.');
      return new Promise<number>(() => undefined);
    })();
    return await Promise.race([ready, exited, signalled]);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await stopAll();
  }
}

/**
 * The variables that point the payment app at Stripe: the local Stripe-compatible server, started
 * here; none with real keys (the SDK's default, api.stripe.com).
 */
async function stripeFor(
  env: DevEnvironment,
  started: StartedService[],
): Promise<Record<string, string>> {
  if (usesRealStripe()) {
    log(
      `Stripe: the real API with the keys of the environment; its webhooks must reach ${env.appUrls.payment}/webhooks/stripe`,
    );
    return {};
  }
  const stripe = await startStripeLocal({
    port: env.stripeLocalPort,
    webhookUrl: `${env.appUrls.payment}/webhooks/stripe`,
    webhookSecret: env.webhookSecret,
    controlToken: env.stripeLocalControlToken,
  });
  started.push({ name: 'stripe-local', stop: () => stripe.stop() });
  log(`local Stripe-compatible server on ${env.stripeLocalUrl}`);
  return stripe.sdkEnv;
}

function untilReady(app: Process, url: string): Promise<true> {
  return eventually(
    async () => (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200,
    { timeoutMs: 120_000, intervalMs: 250, what: `${app} to be ready at ${url}` },
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

type Tokens = Record<(typeof DEV_PRINCIPALS)[number]['roles'][0], string>;

/**
 * A token per role of DEV_PRINCIPALS, signed as the apps verify (their environment); none, with
 * the reason logged, where they trust an identity provider instead.
 */
async function developmentTokens(appEnv: NodeJS.ProcessEnv): Promise<Tokens | undefined> {
  try {
    const minted = await Promise.all(
      DEV_PRINCIPALS.map(async ({ sub, roles }) => {
        const { token } = await mintDevelopmentToken(
          { sub, roles: [...roles] },
          DEV_TOKEN_TTL_S,
          appEnv,
        );
        return [roles[0], token] as const;
      }),
    );
    return Object.fromEntries(minted) as Tokens;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    log(`no development tokens and no demo products: ${error.message}`);
    return undefined;
  }
}

/** The tokens, a request to try each kind of caller with, and how to mint more. */
function howToCall(env: DevEnvironment, tokens: Tokens): string {
  const product = `${env.appUrls.inventory}/inventory/products/DEMO-TEE`;
  const order = `{"items":[{"sku":"DEMO-TEE","quantity":1}]}`;
  return [
    `${NAME}: development tokens, valid ${DEV_TOKEN_TTL_S / 3600} h (Authorization: Bearer <token>):`,
    ...DEV_PRINCIPALS.map(
      ({ sub, roles }) => `  ${roles[0].padEnd(8)} ${sub.padEnd(15)} ${tokens[roles[0]]}`,
    ),
    `${NAME}: try:`,
    `  curl -H "Authorization: Bearer ${tokens.merchant}" ${product}`,
    `  curl -H "Authorization: Bearer ${tokens.customer}" -H 'content-type: application/json' -d '${order}' ${env.appUrls.order}/orders`,
    `${NAME}: more tokens: npm run -s cli -- token --sub <name> --roles customer[,operator] [--tenant t1] [--ttl 1h]`,
    '',
  ].join('\n');
}

/** Creates the demo products that do not exist yet, as a merchant; stock someone changed is left alone. */
async function addDemoProducts(inventoryUrl: string, merchantToken: string): Promise<void> {
  const authorization = `Bearer ${merchantToken}`;
  for (const { sku, ...product } of DEMO_PRODUCTS) {
    const url = `${inventoryUrl}/inventory/products/${sku}`;
    const existing = await fetch(url, { headers: { authorization } });
    if (existing.status === 200) continue;
    if (existing.status !== 404)
      throw new Error(`reading demo product ${sku}: ${existing.status} ${await existing.text()}`);
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ ...product, currency: 'EUR' }),
    });
    if (!res.ok) throw new Error(`adding demo product ${sku}: ${res.status} ${await res.text()}`);
  }
}

void main().then((code) => process.exit(code));
