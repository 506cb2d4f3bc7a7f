import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_STRIPE_SECRET_KEY, DEV_STRIPE_WEBHOOK_SECRET } from '../../apps/payment/src/config';
import { controlTokenOf } from '../stripe-local/control-token';

/**
 * Where `npm run dev` puts each part of the platform, shared with `npm run demo`. Every port can
 * be moved with an environment variable so a second copy (or a test) can run beside the first.
 */
export const APPS = ['order', 'payment', 'inventory', 'trading'] as const;
export type AppName = (typeof APPS)[number];

export interface DevEnvironment {
  appUrls: Record<AppName, string>;
  appPorts: Record<AppName, number>;
  /** The operators' web console (apps/console). */
  consolePort: number;
  consoleUrl: string;
  stripeLocalPort: number;
  stripeLocalUrl: string;
  /** What stripe-local's `/_control/` API requires (STRIPE_LOCAL_CONTROL_TOKEN). */
  stripeLocalControlToken: string;
  webhookSecret: string;
}

/**
 * The `.env` of the folder they run in (npm runs scripts in the repository's root), when there is
 * one: dev, the apps it starts and the demo read the same settings. The environment wins over it.
 */
export function loadDotEnv(): void {
  const file = join(process.cwd(), '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

export function devEnvironment(env: NodeJS.ProcessEnv = process.env): DevEnvironment {
  const port = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1 || value > 65535)
      throw new Error(`${name} must be a port number, got "${env[name]}"`);
    return value;
  };
  const appPorts: Record<AppName, number> = {
    order: port('ORDER_PORT', 3001),
    payment: port('PAYMENT_PORT', 3002),
    inventory: port('INVENTORY_PORT', 3003),
    trading: port('TRADING_PORT', 3004),
  };
  const stripeLocalPort = port('STRIPE_LOCAL_PORT', 12111);
  const consolePort = port('CONSOLE_PORT', 3005);
  return {
    appPorts,
    consolePort,
    consoleUrl: `http://127.0.0.1:${consolePort}`,
    appUrls: {
      order: `http://127.0.0.1:${appPorts.order}`,
      payment: `http://127.0.0.1:${appPorts.payment}`,
      inventory: `http://127.0.0.1:${appPorts.inventory}`,
      trading: `http://127.0.0.1:${appPorts.trading}`,
    },
    stripeLocalPort,
    stripeLocalUrl: `http://127.0.0.1:${stripeLocalPort}`,
    stripeLocalControlToken: controlTokenOf(env),
    webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? DEV_STRIPE_WEBHOOK_SECRET,
  };
}

/**
 * Whether the environment (or .env) holds Stripe keys of a real account: then the payment app
 * calls Stripe with them, and no local Stripe server runs. The development keys of .env.example
 * are the local server's.
 */
export function usesRealStripe(env: NodeJS.ProcessEnv = process.env): boolean {
  const { STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: secret } = env;
  return (
    key !== undefined &&
    key !== DEV_STRIPE_SECRET_KEY &&
    secret !== undefined &&
    secret !== DEV_STRIPE_WEBHOOK_SECRET
  );
}

/** The line dev and start:all open with: the mode the apps run in, and what that means. */
export function modeLine(env: NodeJS.ProcessEnv = process.env): string {
  const mode = env.NODE_ENV ?? 'development';
  return mode === 'production'
    ? 'NODE_ENV=production: development secrets, the superuser database and plain NATS are refused'
    : `NODE_ENV=${mode}: DEVELOPMENT MODE, development secrets are accepted; never expose it (NODE_ENV=production for that)`;
}

/** Products `npm run dev` creates when they are missing; `npm run demo` orders them. */
export const DEMO_PRODUCTS = [
  { sku: 'DEMO-TEE', name: 'Demo T-shirt', priceMinor: 1999, stock: 100, lowStockThreshold: 10 },
  { sku: 'DEMO-MUG', name: 'Demo mug', priceMinor: 899, stock: 50, lowStockThreshold: 5 },
  {
    sku: 'DEMO-SOLD-OUT',
    name: 'Sold-out poster',
    priceMinor: 1500,
    stock: 0,
    lowStockThreshold: 0,
  },
] as const;

/**
 * The principals `npm run dev` prints a token for, one per role a developer tries first; the
 * platform operator's is the one to sign in to the console with.
 */
export const DEV_PRINCIPALS = [
  { sub: 'dev-customer', roles: ['customer'] },
  { sub: 'dev-merchant', roles: ['merchant'] },
  { sub: 'dev-operator', roles: ['operator'] },
  { sub: 'dev-trader', roles: ['trader'] },
  { sub: 'dev-platform-op', roles: ['platform-operator'] },
] as const;
