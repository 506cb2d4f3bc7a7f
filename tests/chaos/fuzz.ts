import { createHmac, randomUUID } from 'node:crypto';
import { mintToken } from '@lib/platform';
import { CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE } from '../../apps/console/src/session/session';
import { bearer } from '../harness/tokens';
import { AppName, ChaosPlatform, WEBHOOK_SECRET } from './chaos-platform';
import { HttpCalls } from './http-calls';
import { TextRequest } from '../harness/keep-alive-fetch';
import { Random } from './random';

/**
 * Hostile requests to every public route of the four apps and the console, the Stripe webhook
 * included (unsigned, badly signed, and correctly signed hostile bodies). Every answer must be a
 * 2xx, 3xx or 4xx (JSON from the apps); the suite's invariants then show that none of them changed
 * the load's orders, stock or money. Valid-looking requests act in a tenant of their own (`fuzz`),
 * so even one that happens to be accepted touches nothing of the storefront's; the console's forms
 * never carry the browser's CSRF value, so no operator action goes through.
 */
export async function fuzz(
  platform: ChaosPlatform,
  http: HttpCalls,
  random: Random,
  requests: number,
  concurrency = 24,
): Promise<void> {
  const tokens = await fuzzTokens();
  const fuzzer = new Fuzzer(random, tokens, tokens.map(sessionOf), await knownIntents(platform));
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent++ < requests) {
        const target = random.weighted(TARGET_WEIGHTS);
        const { app, route, request } = fuzzer.request(target);
        await http.send(app, route, 'fuzz', {
          ...request,
          url: `${platform.url(app)}${request.url}`,
        });
      }
    }),
  );
}

/** A literal written into the JSON as it is: numbers JSON.stringify cannot make, deep nesting. */
class Raw {
  constructor(readonly text: string) {}
}

type Value = null | boolean | number | string | Raw | Value[] | { [key: string]: Value };

const nested = (open: string, inner: string, close: string, depth: number) =>
  new Raw(`${open.repeat(depth)}${inner}${close.repeat(depth)}`);

const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'pi_\u0000',
  'a\u0001b\u001fc',
  '\u007f',
  '\ud800',
  '\udfff\ud800',
  '\u202eRUE',
  '😀'.repeat(40),
  'x'.repeat(5000),
  "' OR 1=1 --",
  '%00',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${7*7}',
  'NaN',
  'null',
  'true',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  '\r\nX-Injected: 1',
  '\\',
];

const HOSTILE_VALUES: readonly Value[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  1e300,
  [],
  {},
  [[]],
  [null],
  new Raw('1e309'),
  new Raw('-1e309'),
  new Raw('-0'),
  new Raw('123456789012345678901234567890'),
  new Raw('"\\u0000"'),
  new Raw('"\\ud800"'),
  new Raw('{"__proto__":{"polluted":true}}'),
  new Raw('{"constructor":{"prototype":{"polluted":true}}}'),
  nested('[', '', ']', 40),
  nested('[', '', ']', 3000),
  nested('{"a":', '1', '}', 3000),
  nested('[', '"EUR"', ']', 20_000),
];

const HOSTILE_SEGMENTS: readonly string[] = [
  'not-a-uuid',
  '%00',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  'x'.repeat(3000),
  '%F0%9F%98%80',
  '%ZZ',
  '%E0%A4%A',
  '00000000-0000-0000-0000-000000000000',
  'ABCDEF00-0000-4000-8000-000000000000',
  `${randomUUID()}%20`,
  `${randomUUID()}%00`,
  '%27%20OR%201%3D1',
  '%0d%0aX-Injected:%201',
  '-1',
  'undefined',
];

const BAD_BODIES: readonly (string | Buffer)[] = [
  '',
  '{',
  'not json',
  '{"a":1}garbage',
  '"a string"',
  '123',
  'null',
  '\u0000',
  '\ufeff{"items":[]}',
  '{"items":1,"items":[{"sku":"FUZZ-1","quantity":1}]}',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
];

const OTHER_CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16le',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/merge-patch+json',
];

/** Every public route (the storefront's, the merchants', the traders', the operators', probes), by weight. */
const TARGET_WEIGHTS = {
  'place-order': 12,
  'get-order': 4,
  'cancel-order': 4,
  'operator-list': 3,
  'operator-counts': 2,
  'operator-find': 2,
  'operator-saga': 2,
  'operator-bulk': 4,
  'operator-act': 4,
  'get-payment': 4,
  webhook: 20,
  'put-product': 10,
  'get-product': 3,
  reservations: 3,
  'create-strategy': 8,
  'list-strategies': 2,
  'get-strategy': 2,
  'strategy-act': 3,
  audit: 3,
  probe: 3,
  unknown: 2,
  'console-page': 4,
  'console-form': 4,
};
type Target = keyof typeof TARGET_WEIGHTS;

interface FuzzRequest {
  app: AppName;
  route: string;
  request: TextRequest;
}

interface KnownIntent {
  id: string;
  amount: number;
  currency: string;
  orderId: string;
}

class Fuzzer {
  constructor(
    private readonly random: Random,
    private readonly tokens: Record<string, string>[],
    /** The console's cookies: a session of each token above, and a CSRF value no form repeats. */
    private readonly sessions: Record<string, string>[],
    private readonly intents: KnownIntent[],
  ) {}

  request(target: Target): FuzzRequest {
    const r = this.random;
    const id = () => this.segment(randomUUID());
    switch (target) {
      case 'place-order':
        return this.withBody('order', 'POST /orders', 'POST', '/orders', {
          items: [{ sku: `FUZZ-${r.int(1, 5)}`, quantity: r.int(1, 3) }],
          currency: 'EUR',
        });
      case 'get-order':
        return this.get('order', 'GET /orders/:id', `/orders/${id()}`);
      case 'cancel-order':
        return this.withBody(
          'order',
          'POST /orders/:id/cancel',
          'POST',
          `/orders/${id()}/cancel`,
          {},
        );
      case 'operator-list':
        return this.get(
          'order',
          'GET /operator/sagas',
          `/operator/sagas?${this.query({ state: 'CANCELLED', limit: '10', stuck: 'true' })}`,
        );
      case 'operator-counts':
        return this.get(
          'order',
          'GET /operator/sagas/counts',
          `/operator/sagas/counts?${this.query({ olderThanMs: '1000' })}`,
        );
      case 'operator-find':
        return this.get(
          'order',
          'GET /operator/sagas/find',
          `/operator/sagas/find?${this.query({ id: 'pi_x' })}`,
        );
      case 'operator-saga':
        return this.get('order', 'GET /operator/sagas/:sagaId', `/operator/sagas/${id()}`);
      case 'operator-bulk':
        return this.withBody('order', 'POST /operator/sagas/bulk', 'POST', '/operator/sagas/bulk', {
          action: r.pick(['retry', 'cancel', 'resolve']),
          filter: { state: 'FAILED', olderThanMs: 1000 },
          dryRun: r.chance(0.5),
          limit: 10,
          note: 'fuzz',
        });
      case 'operator-act': {
        const action = r.pick(['retry', 'cancel', 'resolve']);
        return this.withBody(
          'order',
          `POST /operator/sagas/:sagaId/${action}`,
          'POST',
          `/operator/sagas/${id()}/${action}`,
          { note: 'fuzz' },
        );
      }
      case 'get-payment':
        return this.get('payment', 'GET /payments/:orderId', `/payments/${id()}`);
      case 'webhook':
        return this.webhook();
      case 'put-product': {
        const sku = r.chance(0.7) ? `FUZZ-${r.int(1, 5)}` : this.segment('FUZZ-1');
        return this.withBody(
          'inventory',
          'PUT /inventory/products/:sku',
          'PUT',
          `/inventory/products/${sku}`,
          {
            name: 'Fuzz product',
            priceMinor: 500,
            currency: 'EUR',
            stock: 100,
            lowStockThreshold: 0,
          },
        );
      }
      case 'get-product':
        return this.get(
          'inventory',
          'GET /inventory/products/:sku',
          `/inventory/products/${this.segment('CHAOS-TEE')}`,
        );
      case 'reservations':
        return this.get(
          'inventory',
          'GET /inventory/reservations',
          `/inventory/reservations?${this.query({ orderId: randomUUID() })}`,
        );
      case 'create-strategy':
        return this.withBody(
          'trading',
          'POST /v1/trading/strategies',
          'POST',
          '/v1/trading/strategies',
          {
            name: 'fuzz grid',
            symbol: 'BTC-USD',
            kind: 'grid',
            params: { center: 62, spacing: 1, levels: 3, quantityPerLevel: 2 },
            riskLimits: { maxPosition: 100, maxOrderQty: 50, maxOrdersPerMinute: 60 },
          },
        );
      case 'list-strategies':
        return this.get(
          'trading',
          'GET /v1/trading/strategies',
          `/v1/trading/strategies?${this.query({ state: 'IDLE' })}`,
        );
      case 'get-strategy':
        return this.get(
          'trading',
          'GET /v1/trading/strategies/:id',
          `/v1/trading/strategies/${id()}`,
        );
      case 'strategy-act': {
        const action = r.pick(['deploy', 'stop']);
        return this.withBody(
          'trading',
          `POST /v1/trading/strategies/:id/${action}`,
          'POST',
          `/v1/trading/strategies/${id()}/${action}`,
          {},
        );
      }
      case 'audit': {
        const app = r.pick(['order', 'inventory', 'payment', 'trading'] as const);
        return this.get(
          app,
          'GET /audit',
          `/audit?${this.query({ action: 'order.cancel', limit: '5' })}`,
        );
      }
      case 'probe': {
        const app = r.pick(['order', 'inventory', 'payment', 'trading', 'console'] as const);
        const path = r.pick(['/health/live', '/health/ready', '/metrics']);
        return this.get(app, `GET ${path}`, path);
      }
      case 'console-page': {
        const [route, url] = r.pick<[string, string]>([
          ['GET /', '/'],
          ['GET /login', `/login?${this.query({ next: '/sagas' })}`],
          ['GET /sagas', `/sagas?${this.query({ state: 'FAILED', olderThanMs: '1000' })}`],
          ['GET /sagas/:sagaId', `/sagas/${id()}`],
          ['GET /sagas/:sagaId/:action', `/sagas/${id()}/${this.segment('cancel')}`],
          [
            'GET /sagas/bulk/:action',
            `/sagas/bulk/${this.segment('retry')}?${this.query({ state: 'FAILED' })}`,
          ],
          ['GET /dead-letters', `/dead-letters?${this.query({ stream: 'ORDERS' })}`],
          ['GET /dead-letters/:seq', `/dead-letters/${this.segment(String(r.int(1, 50)))}`],
          ['GET /dead-letters/replay', `/dead-letters/replay?${this.query({ seq: '1' })}`],
          ['GET /dead-letters/purge', `/dead-letters/purge?${this.query({ seq: '1' })}`],
          ['GET /streams', '/streams'],
          ['GET /assets/console.css', '/assets/console.css'],
        ]);
        return {
          app: 'console',
          route,
          request: { method: 'GET', url, headers: r.pick(this.sessions) },
        };
      }
      case 'console-form':
        return this.consoleForm();
      case 'unknown': {
        const app = r.pick(['order', 'inventory', 'payment', 'trading', 'console'] as const);
        const method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
        const path = r.pick([
          '/',
          '/orders',
          `/orders/${randomUUID()}`,
          '/admin',
          '/.env',
          `/${this.segment('x')}`,
        ]);
        return this.withBody(app, 'unknown route', method, path, { any: 'thing' });
      }
    }
  }

  /** A GET with a token that may be missing, wrong or valid. */
  private get(app: AppName, route: string, url: string): FuzzRequest {
    return { app, route, request: { method: 'GET', url, headers: this.random.pick(this.tokens) } };
  }

  /** A body made hostile one way or another, under a token that may be missing, wrong or valid. */
  private withBody(
    app: AppName,
    route: string,
    method: string,
    url: string,
    template: Value,
  ): FuzzRequest {
    const r = this.random;
    const headers: Record<string, string> = { ...r.pick(this.tokens) };
    let body: string | Buffer;
    let contentType: string | undefined = 'application/json';
    const roll = r.next();
    if (roll < 0.7) body = serialize(this.mutate(template));
    else if (roll < 0.8) body = r.pick(BAD_BODIES);
    else if (roll < 0.9) {
      contentType = r.pick(OTHER_CONTENT_TYPES);
      body = r.chance(0.5) ? serialize(template) : 'items=1&sku=FUZZ-1';
    } else if (roll < 0.95)
      body = serialize({ ...(template as object), padding: 'x'.repeat(70 * 1024) });
    else body = serialize(template);
    if (contentType) headers['content-type'] = contentType;
    if (r.chance(0.1))
      headers['idempotency-key'] = r.pick([randomUUID(), 'x'.repeat(300), 'clé', '']);
    return { app, route, request: { method, url, headers, body } };
  }

  /**
   * A form post to the console: hostile fields, another encoding or too large, under a session
   * that may be missing, forged or valid, and never with the CSRF value of its cookie.
   */
  private consoleForm(): FuzzRequest {
    const r = this.random;
    const action = r.pick(['retry', 'cancel', 'resolve']);
    const [route, url] = r.pick<[string, string]>([
      ['POST /login', '/login'],
      ['POST /logout', '/logout'],
      ['POST /sagas/:sagaId/:action', `/sagas/${this.segment(randomUUID())}/${action}`],
      ['POST /sagas/bulk/:action', `/sagas/bulk/${action}`],
      ['POST /dead-letters/replay', '/dead-letters/replay'],
      ['POST /dead-letters/purge', '/dead-letters/purge'],
    ]);
    const fields: [string, string][] = [
      [
        'token',
        r.chance(0.5)
          ? (r.pick(this.tokens).authorization ?? '').slice(7)
          : r.pick(HOSTILE_STRINGS),
      ],
      ['next', r.pick(['/sagas', '//evil.example', '/\\evil.example', ...HOSTILE_STRINGS])],
      ['note', r.pick(HOSTILE_STRINGS)],
      ['seq', r.pick(['1', '-1', '1e309', ...HOSTILE_STRINGS])],
      ['state', r.pick(['FAILED', ...HOSTILE_STRINGS])],
      [CSRF_FIELD, r.pick(['B'.repeat(43), 'A'.repeat(42), ...HOSTILE_STRINGS])],
    ];
    if (r.chance(0.2)) fields.push([r.pick(fields)[0], r.pick(HOSTILE_STRINGS)]);
    const form = fields
      .filter(() => r.chance(0.8))
      .map(([key, value]) => `${encodeHostile(key)}=${encodeHostile(value)}`)
      .join('&');
    const roll = r.next();
    let contentType: string | undefined = 'application/x-www-form-urlencoded';
    let body: string | Buffer = form;
    if (roll < 0.1) body = `${form}&padding=${'x'.repeat(70 * 1024)}`;
    else if (roll < 0.2) body = r.pick(BAD_BODIES);
    else if (roll < 0.3)
      contentType = r.pick([
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=x',
        undefined,
      ]);
    const headers: Record<string, string> = { ...r.pick(this.sessions) };
    if (contentType) headers['content-type'] = contentType;
    return { app: 'console', route, request: { method: 'POST', url, headers, body } };
  }

  /** Stripe's deliveries: unsigned, badly signed, stale, or correctly signed with a hostile body. */
  private webhook(): FuzzRequest {
    const r = this.random;
    const event = this.forgedEvent();
    const roll = r.next();
    let body: string | Buffer;
    if (roll < 0.6) body = serialize(this.mutate(event));
    else if (roll < 0.7) body = r.pick(BAD_BODIES);
    else if (roll < 0.8) body = serialize(this.hostileValue());
    else if (roll < 0.85) body = serialize({ ...event, padding: 'x'.repeat(1100 * 1024) });
    else body = serialize(event);
    const now = Math.floor(Date.now() / 1000);
    const signatures = [
      () => signature(body, now),
      () => signature(body, now),
      () => signature(body, now),
      () => signature(body, now - 3600),
      () => signature(body, now + 3600),
      () => signature(body, now, 'whsec_not_ours'),
      () => `t=${now},v1=${'0'.repeat(64)}`,
      // Header values are Latin-1 without control characters: Node refuses to send anything else.
      () => r.pick(HOSTILE_STRINGS.filter((s) => /^[\x20-\x7e]*$/.test(s))),
      () => undefined,
    ];
    const header = r.pick(signatures)();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (header !== undefined) headers['stripe-signature'] = header;
    return {
      app: 'payment',
      route: 'POST /webhooks/stripe',
      request: { method: 'POST', url: '/webhooks/stripe', headers, body },
    };
  }

  /**
   * An event Stripe could send: about an unknown intent, or about one of the storefront's intents
   * but with another amount, currency or mode, which the payment app must refuse.
   */
  private forgedEvent(): { [key: string]: Value } {
    const r = this.random;
    const known = this.intents.length > 0 && r.chance(0.3) ? r.pick(this.intents) : undefined;
    const mismatch = r.pick(['amount', 'currency', 'livemode'] as const);
    const intent: Value = {
      id: known?.id ?? `pi_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      object: 'payment_intent',
      amount: known ? known.amount + (mismatch === 'amount' ? 1 : 0) : r.int(1, 100_000),
      currency: known && mismatch !== 'currency' ? known.currency : known ? 'usd' : 'eur',
      status: 'succeeded',
      latest_charge: 'ch_fuzz',
      metadata: { orderId: known?.orderId ?? randomUUID(), sagaId: randomUUID() },
    };
    return {
      id: `evt_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      type: r.pick([
        'payment_intent.succeeded',
        'payment_intent.payment_failed',
        'payment_intent.canceled',
        'payment_intent.amount_capturable_updated',
        'charge.refunded',
        'customer.created',
      ]),
      livemode: known ? mismatch === 'livemode' : false,
      data: { object: intent },
      request: { id: null, idempotency_key: null },
    };
  }

  /**
   * One or two of: a field replaced by a hostile value, dropped, or wrapped in an array; an
   * unknown field added; the whole body replaced.
   */
  private mutate(template: Value): Value {
    const r = this.random;
    let value = structuredCloneValue(template);
    const mutations = r.int(1, 2);
    for (let i = 0; i < mutations; i++) {
      const paths = pathsOf(value);
      const path = r.pick(paths);
      const roll = r.next();
      if (path.length === 0 || roll < 0.05) {
        value = r.chance(0.5) ? this.hostileValue() : r.pick(HOSTILE_STRINGS);
        continue;
      }
      const parentPath = path.slice(0, -1);
      const key = path[path.length - 1]!;
      const parent = at(value, parentPath) as Record<string | number, Value>;
      if (roll < 0.45) parent[key] = r.pick(HOSTILE_STRINGS);
      else if (roll < 0.8) parent[key] = this.hostileValue();
      else if (roll < 0.88) parent[key] = [parent[key]!];
      else if (roll < 0.94 && !Array.isArray(parent)) delete parent[key];
      else if (!Array.isArray(parent)) {
        const name = r.pick(['unknown', '__proto__', 'constructor', 'tenantId', 'priceMinor']);
        // An own property even for `__proto__`, which an assignment would take as the prototype.
        Object.defineProperty(parent, name, {
          value: this.hostileValue(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return value;
  }

  /** A copy: a later mutation must not change the list. */
  private hostileValue(): Value {
    return structuredCloneValue(this.random.pick(HOSTILE_VALUES));
  }

  /** A path parameter: mostly well-formed (`valid`), sometimes hostile. */
  private segment(valid: string): string {
    return this.random.chance(0.7) ? encodeHostile(valid) : this.random.pick(HOSTILE_SEGMENTS);
  }

  /** A query string of `params`, with a parameter sometimes repeated, bracketed, dropped or hostile. */
  private query(params: Record<string, string>): string {
    const r = this.random;
    const pairs = Object.entries(params).map(([key, value]): [string, string] => [key, value]);
    const roll = r.next();
    const first = pairs[0]!;
    if (roll < 0.2) pairs.push([first[0], r.pick(HOSTILE_STRINGS)]);
    else if (roll < 0.35) first[0] = `${first[0]}[]`;
    else if (roll < 0.45) first[0] = `${first[0]}[a][b]`;
    else if (roll < 0.6) first[1] = r.pick(HOSTILE_STRINGS);
    else if (roll < 0.7) pairs.push([r.pick(HOSTILE_STRINGS), 'x']);
    else if (roll < 0.8) pairs.shift();
    return pairs.map(([key, value]) => `${encodeHostile(key)}=${encodeHostile(value)}`).join('&');
  }
}

/** Authorization headers: none, malformed, forged, expired, and valid ones in the `fuzz` tenant. */
async function fuzzTokens(): Promise<Record<string, string>[]> {
  const fuzzTenant = (sub: string, roles: string[]) => bearer(sub, roles, 'fuzz');
  const raw = async (token: Promise<string>) => ({ authorization: `Bearer ${await token}` });
  const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'fuzz', roles: ['operator'], exp: 9e9 })}.`;
  return [
    {},
    { authorization: 'Bearer' },
    { authorization: 'Bearer not-a-jwt' },
    { authorization: 'Basic ZnV6ejpmdXp6' },
    { authorization: `Bearer ${unsigned}` },
    await raw(
      mintToken({ sub: 'fuzz', roles: ['operator'] }, { secret: 'not-the-secret-'.repeat(3) }),
    ),
    await raw(mintToken({ sub: 'fuzz', roles: ['operator'] }, { ttlSeconds: -3600 })),
    await raw(mintToken({ sub: 'fuzz', roles: ['operator'] }, { audience: 'someone-else' })),
    await raw(mintToken({ sub: 'fuzz\u0000', roles: ['customer'] })),
    await raw(mintToken({ sub: 'fuzz', roles: ['operator'], tenantId: 'a\u0000b' })),
    await raw(mintToken({ sub: 'x'.repeat(5000), roles: ['customer'] })),
    await fuzzTenant('fuzz-customer', ['customer']),
    await fuzzTenant('fuzz-customer', ['customer']),
    await fuzzTenant('fuzz-merchant', ['merchant']),
    await fuzzTenant('fuzz-trader', ['trader']),
    await fuzzTenant('fuzz-operator', ['operator']),
    await fuzzTenant('fuzz-operator', ['operator']),
    await fuzzTenant('fuzz-nobody', []),
  ];
}

/** The console's cookies for the same principal as `headers`, with a CSRF value no form repeats. */
function sessionOf(headers: Record<string, string>): Record<string, string> {
  const token = headers.authorization?.startsWith('Bearer ')
    ? headers.authorization.slice(7)
    : undefined;
  const csrf = `${CSRF_COOKIE}=${'A'.repeat(43)}`;
  return token ? { cookie: `${SESSION_COOKIE}=${token}; ${csrf}` } : { cookie: csrf };
}

/** Intents of the storefront's orders, which forged events name with a wrong amount, currency or mode. */
async function knownIntents(platform: ChaosPlatform): Promise<KnownIntent[]> {
  const { paymentIntents } = await platform.stripe.ledger();
  return paymentIntents
    .filter((intent) => typeof intent.metadata.orderId === 'string')
    .slice(-50)
    .map((intent) => ({
      id: intent.id,
      amount: intent.amount,
      currency: intent.currency,
      orderId: intent.metadata.orderId!,
    }));
}

function signature(body: string | Buffer, timestamp: number, secret = WEBHOOK_SECRET): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Percent-encoded; a lone surrogate, which has no UTF-8 form, as the bytes it would be (not UTF-8). */
function encodeHostile(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

/** JSON text of `value`, with each Raw written as it is. */
function serialize(value: Value): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${serialize(item)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function structuredCloneValue(value: Value): Value {
  if (value instanceof Raw || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(structuredCloneValue);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, structuredCloneValue(item)]),
  );
}

/** Every path to a field or element of `value`, the root (`[]`) included. */
function pathsOf(value: Value, path: (string | number)[] = []): (string | number)[][] {
  const paths = [path];
  if (value instanceof Raw || value === null || typeof value !== 'object') return paths;
  const entries: [string | number, Value][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  for (const [key, item] of entries) paths.push(...pathsOf(item, [...path, key]));
  return paths;
}

function at(value: Value, path: (string | number)[]): Value {
  return path.reduce<Value>((node, key) => (node as Record<string | number, Value>)[key]!, value);
}
