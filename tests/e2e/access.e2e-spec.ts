import { DynamicModule } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HTTPMethods } from 'fastify';
import request from 'supertest';
import { BaseConfig, mintToken, Role, ROLES } from '@lib/platform';
import { InventoryConfig } from '../../apps/inventory/src/config';
import { InventoryModule } from '../../apps/inventory/src/inventory.module';
import { OrderConfig } from '../../apps/order/src/config';
import { OrderModule } from '../../apps/order/src/order.module';
import { PaymentConfig } from '../../apps/payment/src/config';
import { PaymentModule } from '../../apps/payment/src/payment.module';
import { TradingConfig } from '../../apps/trading/src/config';
import { TradingModule } from '../../apps/trading/src/trading.module';
import { startStripeLocal, StripeLocal } from '../../tools/stripe-local/stripe-local.server';
import { freshSchema, query } from '../harness/database';
import { startNatsServer, TestNatsServer } from '../harness/nats-server';
import { startPlatformApp, testConfig } from '../harness/platform-app';
import { bearer } from '../harness/tokens';
import { strategyBody } from '../harness/trading-system';
import { eventually } from '../harness/wait';

/** What the suite creates as customer-1 / merchant-1 / trader-1 of the default tenant. */
interface Fixtures {
  orderId: string;
  sku: string;
  strategyId: string;
  /** A saga that ended CANCELLED (out of stock): no operator action is allowed on it. */
  cancelledSagaId: string;
}

/**
 * Who may call a route: `public` routes need no token; the others name the roles whose permissions
 * allow them and what they answer. `resource` says how the route's row is scoped: `owned` rows
 * (orders, payments) answer 404 to another customer and to another tenant, `tenant` rows answer 404
 * to another tenant, `tenant-list` answers an empty list to another tenant, `tenant-page` a page
 * (`{ items }`) without items.
 */
interface RouteCase {
  path?: (f: Fixtures) => string;
  body?: (f: Fixtures) => Record<string, unknown>;
  public?: { status: number };
  allowed?: Role[];
  ok?: number;
  resource?: 'owned' | 'tenant' | 'tenant-list' | 'tenant-page';
}

/** An operator of the token's tenant, and one of every tenant. */
const OPERATORS: Role[] = ['operator', 'platform-operator'];

const HEALTH: Record<string, RouteCase> = {
  'GET /health/live': { public: { status: 200 } },
  'GET /health/ready': { public: { status: 200 } },
  'GET /metrics': { public: { status: 200 } },
  'GET /audit': { allowed: OPERATORS, ok: 200 },
};

/**
 * The operator actions on the fixture's CANCELLED saga: the route is reached and the state refuses
 * every action (409); their success paths are saga-operations.int-spec's.
 */
const sagaAction = (action: string): RouteCase => ({
  path: (f) => `/operator/sagas/${f.cancelledSagaId}/${action}`,
  allowed: OPERATORS,
  ok: 409,
  resource: 'tenant',
  body: () => ({ note: 'access suite' }),
});

/** Every route of every app: a route that the apps serve and this table lacks fails the suite. */
const ROUTES: Record<string, Record<string, RouteCase>> = {
  order: {
    ...HEALTH,
    'POST /orders': {
      allowed: ['customer'],
      ok: 202,
      body: (f) => ({ items: [{ sku: f.sku, quantity: 1 }] }),
    },
    'GET /orders/:id': {
      path: (f) => `/orders/${f.orderId}`,
      allowed: ['customer', ...OPERATORS],
      ok: 200,
      resource: 'owned',
    },
    'POST /orders/:id/cancel': {
      path: (f) => `/orders/${f.orderId}/cancel`,
      allowed: ['customer'],
      ok: 202,
      resource: 'owned',
    },
    'GET /operator/sagas': { allowed: OPERATORS, ok: 200, resource: 'tenant-page' },
    'GET /operator/sagas/counts': { allowed: OPERATORS, ok: 200 },
    'GET /operator/sagas/find': {
      path: (f) => `/operator/sagas/find?id=${f.orderId}`,
      allowed: OPERATORS,
      ok: 200,
      resource: 'tenant-page',
    },
    'GET /operator/sagas/:sagaId': {
      path: (f) => `/operator/sagas/${f.cancelledSagaId}`,
      allowed: OPERATORS,
      ok: 200,
      resource: 'tenant',
    },
    'POST /operator/sagas/:sagaId/retry': sagaAction('retry'),
    'POST /operator/sagas/:sagaId/cancel': sagaAction('cancel'),
    'POST /operator/sagas/:sagaId/resolve': sagaAction('resolve'),
    'POST /operator/sagas/bulk': {
      allowed: OPERATORS,
      ok: 200,
      body: () => ({ action: 'retry', filter: { state: 'PAYMENT_PENDING' }, dryRun: true }),
    },
  },
  payment: {
    ...HEALTH,
    'GET /payments/:orderId': {
      path: (f) => `/payments/${f.orderId}`,
      allowed: ['customer', ...OPERATORS],
      ok: 200,
      resource: 'owned',
    },
    // Authenticated by its Stripe signature, which these requests do not carry.
    'POST /webhooks/stripe': { public: { status: 400 }, body: () => ({ id: 'evt_1' }) },
  },
  inventory: {
    ...HEALTH,
    'PUT /inventory/products/:sku': {
      path: (f) => `/inventory/products/${f.sku}`,
      allowed: ['merchant'],
      ok: 200,
      body: () => product(),
    },
    'GET /inventory/products/:sku': {
      path: (f) => `/inventory/products/${f.sku}`,
      allowed: ['merchant', ...OPERATORS],
      ok: 200,
      resource: 'tenant',
    },
    'GET /inventory/reservations': {
      path: (f) => `/inventory/reservations?orderId=${f.orderId}`,
      allowed: ['merchant', ...OPERATORS],
      ok: 200,
      resource: 'tenant-list',
    },
  },
  trading: {
    ...HEALTH,
    'POST /v1/trading/strategies': { allowed: ['trader'], ok: 201, body: () => strategyBody() },
    'GET /v1/trading/strategies': {
      allowed: ['trader', ...OPERATORS],
      ok: 200,
      resource: 'tenant-list',
    },
    'GET /v1/trading/strategies/:id': {
      path: (f) => `/v1/trading/strategies/${f.strategyId}`,
      allowed: ['trader', ...OPERATORS],
      ok: 200,
      resource: 'tenant',
    },
    'POST /v1/trading/strategies/:id/deploy': {
      path: (f) => `/v1/trading/strategies/${f.strategyId}/deploy`,
      allowed: ['trader'],
      ok: 202,
      resource: 'tenant',
    },
    'POST /v1/trading/strategies/:id/stop': {
      path: (f) => `/v1/trading/strategies/${f.strategyId}/stop`,
      allowed: ['trader'],
      ok: 202,
      resource: 'tenant',
    },
  },
};

const SKU = 'ACCESS-1';
const product = () => ({
  name: 'Access tee',
  priceMinor: 500,
  currency: 'EUR',
  stock: 100,
  lowStockThreshold: 0,
});
const WEBHOOK_SECRET = 'whsec_access_suite';

/** The routes an app serves, as Nest registered them from its controllers, as `METHOD /path`. */
function servedRoutes(app: NestFastifyApplication): string[] {
  const fastify = app.getHttpAdapter().getInstance();
  const candidates = [...app.get(ModulesContainer).values()].flatMap((module) =>
    [...module.controllers.values()].flatMap(({ metatype }) => {
      if (!metatype) return [];
      const prototype = (metatype as { prototype: object }).prototype;
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
      return Object.getOwnPropertyNames(prototype).flatMap((name) => {
        const handler = (prototype as Record<string, unknown>)[name] as object;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined || name === 'constructor') return [];
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const url = `/${[base, path]
          .map((part) => part.replace(/^\/|\/$/g, ''))
          .filter(Boolean)
          .join('/')}`;
        return [{ method: method as HTTPMethods, url }];
      });
    }),
  );
  // Registered with Fastify, not only declared.
  return candidates
    .filter((route) => fastify.hasRoute(route))
    .map(({ method, url }) => `${method} ${url}`);
}

describe('who may call what: every route of every app', () => {
  let nats: TestNatsServer;
  let stripeLocal: StripeLocal;
  const apps: Record<string, NestFastifyApplication> = {};
  let fixtures: Fixtures;
  const http = (app: string) => request(apps[app]!.getHttpServer());

  async function boot<C extends BaseConfig>(
    name: string,
    schema: new () => C,
    module: (config: C) => DynamicModule,
    overrides: Record<string, string> = {},
  ): Promise<void> {
    const config = testConfig(schema, nats.env(name), overrides);
    apps[name] = await startPlatformApp(module(config), name, config);
  }

  beforeAll(async () => {
    await Promise.all(['orders', 'payments', 'inventory', 'trading'].map(freshSchema));
    nats = await startNatsServer();
    stripeLocal = await startStripeLocal({
      port: 0,
      host: '127.0.0.1',
      webhookSecret: WEBHOOK_SECRET,
    });
    await boot('order', OrderConfig, (c) => OrderModule.forRoot(c));
    await boot('inventory', InventoryConfig, (c) => InventoryModule.forRoot(c));
    await boot('payment', PaymentConfig, (c) => PaymentModule.forRoot(c), {
      STRIPE_SECRET_KEY: 'sk_test_access_suite',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...stripeLocal.sdkEnv,
    });
    await boot('trading', TradingConfig, (c) => TradingModule.forRoot(c));

    await http('inventory')
      .put(`/inventory/products/${SKU}`)
      .set(await bearer('merchant-1', ['merchant']))
      .send(product())
      .expect(200);
    const placed = await http('order')
      .post('/orders')
      .set(await bearer('customer-1', ['customer']))
      .send({ items: [{ sku: SKU, quantity: 1 }] })
      .expect(202);
    const orderId = (placed.body as { orderId: string }).orderId;
    const soldOut = await http('order')
      .post('/orders')
      .set(await bearer('customer-1', ['customer']))
      .send({ items: [{ sku: 'ACCESS-UNKNOWN', quantity: 1 }] })
      .expect(202);
    const { orderId: soldOutId, sagaId: cancelledSagaId } = soldOut.body as {
      orderId: string;
      sagaId: string;
    };
    const created = await http('trading')
      .post('/v1/trading/strategies')
      .set(await bearer('trader-1', ['trader']))
      .send(strategyBody())
      .expect(201);
    fixtures = {
      orderId,
      sku: SKU,
      strategyId: (created.body as { strategyId: string }).strategyId,
      cancelledSagaId,
    };
    // The payment exists once the saga has asked for it: every fixture is then in place.
    const operator = await bearer('operator-1', ['operator']);
    await eventually(
      async () => (await http('payment').get(`/payments/${orderId}`).set(operator)).status === 200,
      { what: 'the payment of the fixture order' },
    );
    await eventually(
      async () => {
        const res = await http('order').get(`/orders/${soldOutId}`).set(operator);
        return (res.body as { status?: string }).status === 'CANCELLED';
      },
      { what: 'the sold-out fixture order cancelled' },
    );
  }, 120_000);

  afterAll(async () => {
    for (const app of Object.values(apps)) await app.close();
    await stripeLocal?.stop();
    await nats?.destroy();
  });

  it('has an expectation for every route the apps serve, and serves every route it expects', () => {
    for (const [app, routes] of Object.entries(ROUTES)) {
      expect(servedRoutes(apps[app]!).sort()).toEqual(Object.keys(routes).sort());
    }
  });

  const allowedHeaders = async (spec: RouteCase) => {
    const role = spec.allowed?.[0];
    return role ? bearer(`${role}-1`, [role]) : {};
  };

  const rowCounts = () =>
    query<{ orders: string; products: string; strategies: string; payments: string }>(
      `SELECT (SELECT count(*) FROM orders.orders) AS orders,
              (SELECT count(*) FROM inventory.products) AS products,
              (SELECT count(*) FROM trading.strategies) AS strategies,
              (SELECT count(*) FROM payments.payments) AS payments`,
    );

  it('answers 400 to a NUL byte or a __proto__ key in any body field, and to a NUL in any path parameter, writing nothing', async () => {
    const before = await rowCounts();
    for (const [app, routes] of Object.entries(ROUTES)) {
      for (const [route, spec] of Object.entries(routes)) {
        const [method, template] = route.split(' ') as [string, string];
        const verb = method.toLowerCase() as 'get' | 'post' | 'put';
        const headers = await allowedHeaders(spec);
        const path = spec.path?.(fixtures) ?? template;
        const body = spec.body?.(fixtures);
        const bodies = body
          ? [
              ...Object.keys(body).map((field) => ({ ...body, [field]: 'a\u0000b' })),
              JSON.parse(
                `{"__proto__": {"admin": true}, ${JSON.stringify(body).slice(1)}`,
              ) as object,
            ]
          : [];
        for (const hostile of bodies) {
          const res = await http(app)[verb](path).set(headers).send(hostile);
          expect({ route, hostile, status: res.status }).toEqual({ route, hostile, status: 400 });
        }
        if (template.includes('/:')) {
          const bad = template.replace(/:[a-zA-Z]+/, 'A%00B');
          const res = await http(app)
            [verb](bad)
            .set(headers)
            .send(body ?? {});
          expect({ route, status: res.status }).toEqual({ route, status: 400 });
        }
      }
    }
    expect(await rowCounts()).toEqual(before);
  });

  const send = (app: string, route: string, headers: Record<string, string> = {}) => {
    const spec = ROUTES[app]![route]!;
    const [method, template] = route.split(' ') as [string, string];
    const path = spec.path?.(fixtures) ?? template;
    const req = http(app)[method.toLowerCase() as 'get' | 'post' | 'put'](path).set(headers);
    return spec.body ? req.send(spec.body(fixtures)) : req;
  };

  const cases = Object.entries(ROUTES).flatMap(([app, routes]) =>
    Object.keys(routes).map((route) => [app, route] as const),
  );

  describe.each(cases)('%s %s', (app, route) => {
    const spec = ROUTES[app]![route]!;

    if (spec.public) {
      it(`answers ${spec.public.status} without a token`, async () => {
        expect((await send(app, route)).status).toBe(spec.public!.status);
      });
      return;
    }

    it('answers 401 with no token, an expired, foreign, wrong-issuer or wrong-audience one', async () => {
      const claims = { sub: 'customer-1', roles: [...ROLES] };
      const tokens = [
        undefined,
        await mintToken(claims, { ttlSeconds: -120 }),
        await mintToken(claims, { secret: 'not-the-apps-secret-but-long-enough-to-sign' }),
        await mintToken(claims, { issuer: 'someone-else' }),
        await mintToken(claims, { audience: 'another-api' }),
      ];
      for (const token of tokens) {
        const res = await send(app, route, token ? { authorization: `Bearer ${token}` } : {});
        expect({ token, status: res.status, code: (res.body as { code?: string }).code }).toEqual({
          token,
          status: 401,
          code: 'AUTH.UNAUTHENTICATED',
        });
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });

    it('answers 403 to every role it does not allow', async () => {
      for (const role of ROLES.filter((r) => !spec.allowed!.includes(r))) {
        const res = await send(app, route, await bearer(`${role}-1`, [role]));
        expect({ role, status: res.status }).toEqual({ role, status: 403 });
      }
    });

    if (spec.resource) {
      it('hides the resource from another tenant', async () => {
        const role = spec.allowed![0]!;
        const res = await send(app, route, await bearer(`${role}-1`, [role], 'other-tenant'));
        if (spec.resource === 'tenant-list') {
          expect(res.status).toBe(200);
          expect(res.body).toEqual(expect.objectContaining({ length: 0 }));
        } else if (spec.resource === 'tenant-page') {
          expect(res.status).toBe(200);
          expect(res.body).toEqual(expect.objectContaining({ items: [] }));
        } else {
          expect(res.status).toBe(404);
        }
      });
    }

    if (spec.resource === 'owned') {
      it("hides a customer's resource from another customer", async () => {
        const res = await send(app, route, await bearer('customer-2', ['customer']));
        expect(res.status).toBe(404);
      });
    }

    it(`answers ${spec.ok} to each role it allows`, async () => {
      for (const role of spec.allowed!) {
        const res = await send(app, route, await bearer(`${role}-1`, [role]));
        expect({ role, status: res.status }).toEqual({ role, status: spec.ok });
      }
    });
  });

  it('audits each denial once, with the route template and no ids or input', async () => {
    const rows = await query<{ entity_id: string; reason: string }>(
      `SELECT entity_id, reason FROM orders.audit_log WHERE result = 'denied' AND actor = 'merchant-1'`,
    );
    expect(rows.map((r) => r.entity_id).sort()).toEqual([
      'GET /audit',
      'GET /operator/sagas',
      'GET /operator/sagas/:sagaId',
      'GET /operator/sagas/counts',
      'GET /operator/sagas/find',
      'GET /orders/:id',
      'POST /operator/sagas/:sagaId/cancel',
      'POST /operator/sagas/:sagaId/resolve',
      'POST /operator/sagas/:sagaId/retry',
      'POST /operator/sagas/bulk',
      'POST /orders',
      'POST /orders/:id/cancel',
    ]);
  });
});
