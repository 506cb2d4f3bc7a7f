import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  ApiError,
  ok,
  orderClient,
  retryAfterMs,
  SagaWaitTimeoutError,
  waitForOrder,
} from './saga-client';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A real HTTP server that answers each request from a script, and records what it got. */
class ScriptedServer {
  readonly seen: Seen[] = [];
  private answers: ((seen: Seen) => Answer)[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const seen = {
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body,
          at: Date.now(),
        };
        this.seen.push(seen);
        const answer = (this.answers.shift() ?? ((): Answer => ({ status: 500 })))(seen);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(...answers: ((seen: Seen) => Answer)[]) {
    this.seen.length = 0;
    this.answers = answers;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const ORDER_ID = '8c1c2c3a-1d2e-4f5a-9b8c-7d6e5f4a3b2c';
const placed = { orderId: ORDER_ID, sagaId: ORDER_ID, status: 'PENDING' };
const limited = (retryAfter: string) => (): Answer => ({
  status: 429,
  body: { statusCode: 429, code: 'RATE.LIMITED', message: 'slow down' },
  headers: { 'retry-after': retryAfter },
});
const body = { items: [{ sku: 'A', quantity: 1 }] };

function orderView(state: string) {
  return {
    orderId: ORDER_ID,
    customerId: 'c',
    tenantId: 'default',
    status: 'PENDING',
    currency: 'EUR',
    totalMinor: null,
    lines: [],
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
    saga: { sagaId: ORDER_ID, state, version: 1, reason: null, deadlineAt: null, steps: [] },
  };
}

describe('the typed client', () => {
  const server = new ScriptedServer();

  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it('sends the bearer token, asking for it on every request', async () => {
    let calls = 0;
    const order = orderClient({ baseUrl: server.url, token: () => `token-${++calls}` });
    server.answer(
      () => ({ status: 200, body: orderView('STARTED') }),
      () => ({ status: 200, body: orderView('STARTED') }),
    );
    await ok(order.GET('/orders/{id}', { params: { path: { id: ORDER_ID } } }));
    await ok(order.GET('/orders/{id}', { params: { path: { id: ORDER_ID } } }));
    expect(server.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
    expect(server.seen[0]!.url).toBe(`/orders/${ORDER_ID}`);
  });

  it('gives every write an Idempotency-Key, the same on each retry, and reads none', async () => {
    const order = orderClient({ baseUrl: server.url, token: 't', retryDelayMs: 1 });
    server.answer(
      limited('0'),
      () => ({ status: 503 }),
      () => ({ status: 202, body: placed }),
    );
    expect(await ok(order.POST('/orders', { body }))).toEqual(placed);
    const keys = server.seen.map((s) => s.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    // Each attempt sent the whole body again.
    expect(server.seen.map((s) => JSON.parse(s.body) as unknown)).toEqual([body, body, body]);

    server.answer(() => ({ status: 202, body: placed }));
    await ok(order.POST('/orders', { body }));
    expect(server.seen[0]!.headers['idempotency-key']).not.toBe(keys[0]);

    server.answer(() => ({ status: 200, body: orderView('STARTED') }));
    await ok(order.GET('/orders/{id}', { params: { path: { id: ORDER_ID } } }));
    expect(server.seen[0]!.headers['idempotency-key']).toBeUndefined();
  });

  it('keeps an Idempotency-Key the caller chose', async () => {
    const order = orderClient({ baseUrl: server.url });
    server.answer(() => ({ status: 202, body: placed }));
    await ok(order.POST('/orders', { body, params: { header: { 'Idempotency-Key': 'mine-1' } } }));
    expect(server.seen[0]!.headers['idempotency-key']).toBe('mine-1');
  });

  it('waits the Retry-After the app names before sending again', async () => {
    const order = orderClient({ baseUrl: server.url });
    server.answer(limited('1'), () => ({ status: 202, body: placed }));
    await ok(order.POST('/orders', { body }));
    const [first, second] = server.seen;
    // A lower bound only: timers never fire early, however busy the machine.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
  });

  it('gives up after its retries, or at once on a Retry-After longer than it waits, with the error', async () => {
    const order = orderClient({ baseUrl: server.url, retries: 2, retryDelayMs: 1 });
    server.answer(limited('0'), limited('0'), limited('0'), limited('0'));
    const { error, response } = await order.POST('/orders', { body });
    expect(server.seen).toHaveLength(3);
    expect(response.status).toBe(429);
    expect(error).toEqual({ statusCode: 429, code: 'RATE.LIMITED', message: 'slow down' });

    const patient = orderClient({ baseUrl: server.url, maxRetryDelayMs: 5_000 });
    server.answer(limited('60'));
    await expect(ok(patient.POST('/orders', { body }))).rejects.toEqual(
      new ApiError(429, 'RATE.LIMITED', '/orders answered 429: slow down'),
    );
    expect(server.seen).toHaveLength(1);

    const once = orderClient({ baseUrl: server.url, retries: 0 });
    server.answer(
      () => ({ status: 503 }),
      () => ({ status: 202, body: placed }),
    );
    expect((await once.POST('/orders', { body })).response.status).toBe(503);
    expect(server.seen).toHaveLength(1);
  });

  it('does not retry other errors', async () => {
    const order = orderClient({ baseUrl: server.url, retryDelayMs: 1 });
    server.answer(() => ({
      status: 400,
      body: { statusCode: 400, code: 'REQUEST.INVALID', message: 'items must be an array' },
    }));
    const error = await ok(order.POST('/orders', { body })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'REQUEST.INVALID' });
    expect(server.seen).toHaveLength(1);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Sun, 22 Nov 2026 10:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('waits for a final saga state, or says where the saga stood when it gave up', async () => {
    const order = orderClient({ baseUrl: server.url });
    server.answer(
      () => ({ status: 200, body: orderView('STOCK_RESERVED') }),
      () => ({ status: 200, body: orderView('PAYMENT_PENDING') }),
      () => ({ status: 200, body: orderView('COMPLETED') }),
    );
    const done = await waitForOrder(order, ORDER_ID, { intervalMs: 1 });
    expect(done.saga.state).toBe('COMPLETED');
    expect(server.seen).toHaveLength(3);

    server.answer(
      ...Array.from({ length: 100 }, () => () => ({ status: 200, body: orderView('STARTED') })),
    );
    const error = await waitForOrder(order, ORDER_ID, { timeoutMs: 50, intervalMs: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SagaWaitTimeoutError);
    expect(error).toMatchObject({ orderId: ORDER_ID, last: { saga: { state: 'STARTED' } } });
  });
});
