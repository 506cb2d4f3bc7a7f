import { DEV_STRIPE_WEBHOOK_SECRET } from '../../apps/payment/src/config';

/**
 * Where `npm run dev` puts each part of the platform, shared with `npm run demo`. Every port can
 * be moved with an environment variable so a second copy (or a test) can run beside the first.
 */
export const APPS = ['order', 'payment', 'inventory', 'trading'] as const;
export type AppName = (typeof APPS)[number];

export interface DevEnvironment {
  appUrls: Record<AppName, string>;
  appPorts: Record<AppName, number>;
  stripeLocalPort: number;
  stripeLocalUrl: string;
  webhookSecret: string;
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
  return {
    appPorts,
    appUrls: {
      order: `http://127.0.0.1:${appPorts.order}`,
      payment: `http://127.0.0.1:${appPorts.payment}`,
      inventory: `http://127.0.0.1:${appPorts.inventory}`,
      trading: `http://127.0.0.1:${appPorts.trading}`,
    },
    stripeLocalPort,
    stripeLocalUrl: `http://127.0.0.1:${stripeLocalPort}`,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? DEV_STRIPE_WEBHOOK_SECRET,
  };
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
