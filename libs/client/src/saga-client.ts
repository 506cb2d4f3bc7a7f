import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type {
  components as InventorySchemas,
  paths as InventoryPaths,
} from './generated/inventory';
import type { components as OrderSchemas, paths as OrderPaths } from './generated/order';
import type { components as PaymentSchemas, paths as PaymentPaths } from './generated/payment';
import type { components as TradingSchemas, paths as TradingPaths } from './generated/trading';

export type OrderApi = Client<OrderPaths>;
export type PaymentApi = Client<PaymentPaths>;
export type InventoryApi = Client<InventoryPaths>;
export type TradingApi = Client<TradingPaths>;

/** The schemas of each app's document by name, e.g. `OrderSchema<'OrderView'>`. */
export type OrderSchema<N extends keyof OrderSchemas['schemas']> = OrderSchemas['schemas'][N];
export type PaymentSchema<N extends keyof PaymentSchemas['schemas']> = PaymentSchemas['schemas'][N];
export type InventorySchema<N extends keyof InventorySchemas['schemas']> =
  InventorySchemas['schemas'][N];
export type TradingSchema<N extends keyof TradingSchemas['schemas']> = TradingSchemas['schemas'][N];

export type OrderView = OrderSchema<'OrderView'>;
export type SagaState = OrderView['saga']['state'];
/** The error body every app answers: `{ statusCode, code, message }`. */
export type ApiErrorBody = OrderSchema<'Error'>;

export interface ClientOptions {
  /** The app's URL, e.g. `http://127.0.0.1:3001` for the order app. */
  baseUrl: string;
  /**
   * A bearer token (docs/security.md), or a function that returns one: it is called for each
   * request, so it can refresh an expiring token. Without one, only the public routes answer.
   */
  token?: string | (() => string | Promise<string>);
  /**
   * How often a request answered 429 (rate limited) or 503 (unavailable) is sent again, after the
   * answer's `Retry-After` or an exponential back-off; 0 turns retries off. Default 3.
   */
  retries?: number;
  /** The back-off before the first retry when the answer names no `Retry-After`; doubles. 200 ms. */
  retryDelayMs?: number;
  /** A longer `Retry-After` than this is not waited for: its answer is returned. 30 s. */
  maxRetryDelayMs?: number;
  /** Sends one request; the global `fetch` by default. */
  fetch?: (request: Request) => Promise<Response>;
}

/** The answers worth sending the same request again for: rate limited, unavailable. */
const RETRIED_STATUSES = new Set([429, 503]);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * One app's client: openapi-fetch on that app's paths, with the bearer token, an
 * `Idempotency-Key` on every write that has none (so a retried write acts once), and retries of
 * 429 and 503.
 */
function clientOf<Paths extends object>(options: ClientOptions): Client<Paths> {
  const client = createClient<Paths>({
    baseUrl: options.baseUrl,
    fetch: retrying(options.fetch ?? ((request) => fetch(request)), options),
  });
  client.use(platformHeaders(options.token));
  return client;
}

export const orderClient = (options: ClientOptions): OrderApi => clientOf<OrderPaths>(options);
export const paymentClient = (options: ClientOptions): PaymentApi =>
  clientOf<PaymentPaths>(options);
export const inventoryClient = (options: ClientOptions): InventoryApi =>
  clientOf<InventoryPaths>(options);
export const tradingClient = (options: ClientOptions): TradingApi =>
  clientOf<TradingPaths>(options);

export interface PlatformUrls {
  order: string;
  payment: string;
  inventory: string;
  trading: string;
}

/** A client of each app, sharing a token and retry settings. */
export function platformClients(
  urls: PlatformUrls,
  options: Omit<ClientOptions, 'baseUrl'> = {},
): { order: OrderApi; payment: PaymentApi; inventory: InventoryApi; trading: TradingApi } {
  return {
    order: orderClient({ ...options, baseUrl: urls.order }),
    payment: paymentClient({ ...options, baseUrl: urls.payment }),
    inventory: inventoryClient({ ...options, baseUrl: urls.inventory }),
    trading: tradingClient({ ...options, baseUrl: urls.trading }),
  };
}

function platformHeaders(token: ClientOptions['token']): Middleware {
  return {
    async onRequest({ request }) {
      if (token !== undefined && !request.headers.has('authorization')) {
        const value = typeof token === 'string' ? token : await token();
        request.headers.set('authorization', `Bearer ${value}`);
      }
      // Set once, before the retries below: every attempt of a write carries the same key, so the
      // app answers a retry with the first attempt's answer and acts once.
      if (WRITES.has(request.method) && !request.headers.has('idempotency-key'))
        request.headers.set('idempotency-key', crypto.randomUUID());
      return request;
    },
  };
}

function retrying(
  send: (request: Request) => Promise<Response>,
  { retries = 3, retryDelayMs = 200, maxRetryDelayMs = 30_000 }: ClientOptions,
): (request: Request) => Promise<Response> {
  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      // A request's body can be read once: every attempt but the last sends a copy.
      const response = await send(last ? request : request.clone());
      if (last || !RETRIED_STATUSES.has(response.status)) return response;
      const delay =
        retryAfterMs(response.headers.get('retry-after')) ?? retryDelayMs * 2 ** attempt;
      if (delay > maxRetryDelayMs) return response;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
}

/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An answer other than 2xx, with the `{ statusCode, code, message }` the app sent. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    /** The stable code, e.g. `ORDER.CURRENCY_NOT_SUPPORTED`; undefined when the body had none. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The data of a 2xx answer, or an ApiError: for code that has nothing to do with an error but
 * report it. `const { orderId } = await ok(order.POST('/orders', { body }))`.
 */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error ?? {}) as Partial<ApiErrorBody>;
  const message =
    typeof body.message === 'string'
      ? body.message
      : `${response.status} ${response.statusText || 'error'}`;
  throw new ApiError(response.status, body.code, `${request(response)}: ${message}`);
}

/** `POST /orders` as an error message names it. */
function request(response: Response): string {
  const { pathname } = new URL(response.url || 'http://unknown/');
  return `${response.url ? pathname : 'request'} answered ${response.status}`;
}

/** States a saga does not leave by itself. */
export const FINAL_SAGA_STATES: readonly SagaState[] = [
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'RESOLVED',
];

export interface WaitOptions {
  /** What to wait for; by default a final state (FINAL_SAGA_STATES). */
  until?: (order: OrderView) => boolean;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Between two reads; default 250 ms. */
  intervalMs?: number;
}

/** The saga did not get where it was awaited in time; `last` is what was seen last. */
export class SagaWaitTimeoutError extends Error {
  override readonly name = 'SagaWaitTimeoutError';
  constructor(
    readonly orderId: string,
    readonly last: OrderView | undefined,
  ) {
    super(
      `the saga of order ${orderId} did not get there in time: it is ${last?.saga.state ?? 'unknown'}`,
    );
  }
}

/**
 * Reads the order (`GET /orders/{id}`) until its saga reaches a final state, or what `until` asks
 * for: a saga runs on after `POST /orders` answers 202.
 */
export async function waitForOrder(
  order: OrderApi,
  orderId: string,
  {
    until = (view) => FINAL_SAGA_STATES.includes(view.saga.state),
    timeoutMs = 60_000,
    intervalMs = 250,
  }: WaitOptions = {},
): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  let last: OrderView | undefined;
  for (;;) {
    last = await ok(order.GET('/orders/{id}', { params: { path: { id: orderId } } }));
    if (until(last)) return last;
    if (Date.now() + intervalMs > deadline) throw new SagaWaitTimeoutError(orderId, last);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
