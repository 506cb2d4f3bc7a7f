import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SUBSCRIPTIONS } from '@lib/contracts';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { TEST_DATABASE_URL } from '../harness/database';
import { OtlpReceiver, ReceivedSpan } from '../harness/otlp-receiver';
import { SagaSystem } from '../harness/saga-system';
import { asCustomer } from '../harness/tokens';
import { diagramSteps, traceDiagram } from '../harness/trace-diagram';
import { eventually } from '../harness/wait';

const PAID = '4242424242424242';
const ROOT = join(__dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'observability.md');
const DIAGRAM =
  /(<!-- trace-diagram:start -->\n\n```mermaid\n)([\s\S]*?)(\n```\n\n<!-- trace-diagram:end -->)/;

/** The spans of a whole paid order, once all of them have arrived. */
const LAST_SPANS = [
  'inventory: order.confirmed.v1 process',
  'inventory: inventory.committed.v1 publish',
  'payment: order.confirmed.v1 process',
];

/** The spans of the asynchronous path and of Stripe: what the saga's trace is made of. */
const PATH_SPAN = /^(\S+ (publish|process)|stripe .*)$/;

/** The samples of one metric on a /metrics page, each with its labels. */
function samples(
  page: string,
  metric: string,
): { labels: Record<string, string>; value: number }[] {
  return page
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) => {
      const [, labels = '', value = ''] = /^[^{]+\{(.*)\} (\S+)$/.exec(line) ?? [];
      return {
        labels: Object.fromEntries(
          [...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
        ),
        value: Number(value),
      };
    });
}

/** An app's JSON log lines. */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function ancestors(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent;) {
    chain.push(parent);
    parent = byId.get(parent.parentSpanId ?? '');
  }
  return chain;
}

describe('one trace per order (OpenTelemetry through the outbox and JetStream)', () => {
  let receiver: OtlpReceiver;
  let system: SagaSystem;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    const tracing = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Exports every 100 ms instead of 5 s: the test waits for the spans.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'info',
    };
    system = await SagaSystem.start({
      order: tracing,
      inventory: tracing,
      paymentApp: { ...tracing, STRIPE_MAX_NETWORK_RETRIES: '0', NATS_RETRY_BASE_MS: '100' },
    });
    await system.putProduct('E2E-TRACE-1', 5, 1500);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  it('follows a paid order from POST /orders through every publish and consumer to the stock commit, with the webhook linked', async () => {
    // Stripe fails the first PaymentIntent creation: payment's first delivery is retried.
    await system.stripe!.failNext('api_error', 1);
    const orderId = await system.placeOrder([{ sku: 'E2E-TRACE-1', quantity: 1 }]);
    const { paymentIntentId } = await system.untilPayment(orderId, 'PENDING');
    await system.stripe!.confirm(paymentIntentId!, PAID);
    const order = await system.untilSaga(orderId, 'COMPLETED');
    const traceId = (order.saga as { traceId?: string }).traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await eventually(
      () => {
        const trace = receiver.trace(traceId!);
        const names = new Set(trace.map((s) => `${s.service}: ${s.name}`));
        return LAST_SPANS.every((name) => names.has(name)) ? trace : undefined;
      },
      { timeoutMs: 15_000, what: 'the last spans of the order' },
    );
    const commit = spans.find(
      (s) => s.service === 'inventory' && s.name === 'order.confirmed.v1 process',
    )!;
    const chain = ancestors(commit, spans);
    const root = chain.at(-1)!;
    expect(root).toMatchObject({
      service: 'order',
      kind: 'server',
      parentSpanId: undefined,
      attributes: expect.objectContaining({
        'http.route': '/orders',
        'http.request.method': 'POST',
      }),
    });
    // Each consumer is the child of its publisher; the webhook continues the payment's request.
    expect(
      chain
        .filter((s) => PATH_SPAN.test(s.name))
        .reverse()
        .map((s) => `${s.service}: ${s.name}`),
    ).toEqual([
      'order: order.created.v1 publish',
      'inventory: order.created.v1 process',
      'inventory: inventory.reserved.v1 publish',
      'order: inventory.reserved.v1 process',
      'order: order.payment-requested.v1 publish',
      'payment: order.payment-requested.v1 process',
      'payment: stripe webhook payment_intent.succeeded',
      'payment: payment.succeeded.v1 publish',
      'order: payment.succeeded.v1 process',
      'order: order.confirmed.v1 publish',
      'inventory: order.confirmed.v1 process',
    ]);
    expect(commit).toMatchObject({
      kind: 'consumer',
      attributes: expect.objectContaining({
        'messaging.system': 'nats',
        'messaging.destination.name': 'order.confirmed.v1',
        'messaging.message.id': (await system.events('ORDERS', orderId, 'order.confirmed.v1'))[0]!
          .eventId,
        'messaging.nats.message.delivery_count': 1,
      }),
    });
    // Postgres spans of the commit are its children.
    expect(spans.some((s) => s.parentSpanId === commit.spanId && s.kind === 'client')).toBe(true);

    // The redelivered payment request: a failed first delivery, then a second that succeeds.
    const requests = spans
      .filter((s) => s.name === 'order.payment-requested.v1 process')
      .sort((a, b) => Number(a.start - b.start));
    expect(
      requests.map((s) => [s.attributes['messaging.nats.message.delivery_count'], s.statusCode]),
    ).toEqual([
      [1, 2],
      [2, 0],
    ]);
    const stripeCalls = spans.filter((s) => s.name === 'stripe create_intent');
    expect(stripeCalls.map((s) => s.kind)).toEqual(['client', 'client']);

    // Stripe's delivery is a trace of its own, linked both ways with the payment's.
    const webhook = spans.find((s) => s.name === 'stripe webhook payment_intent.succeeded')!;
    const [link] = webhook.links;
    expect(link?.traceId).not.toBe(traceId);
    const delivery = receiver.trace(link!.traceId);
    expect(delivery.find((s) => s.parentSpanId === undefined)).toMatchObject({
      service: 'payment',
      kind: 'server',
      attributes: expect.objectContaining({ 'http.route': '/webhooks/stripe' }),
    });
    expect(delivery.flatMap((s) => s.links).some((l) => l.traceId === traceId)).toBe(true);

    // Log lines written inside the spans carry their ids.
    const lines = system
      .payment!.stdout()
      .split('\n')
      .filter((line) => line.includes('"payment transition"'))
      .map((line) => JSON.parse(line) as Record<string, string>)
      .filter((line) => line.orderId === orderId);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.traceId).toBe(traceId);
      expect(spans.map((s) => s.spanId)).toContain(line.spanId);
    }

    // Operators find the trace from the order: saga-cli prints its id.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'tools/cli/main.ts', 'saga', 'show', orderId],
      {
        cwd: ROOT,
        env: { ...process.env, ...system.nats.env(OPERATOR_USER), DATABASE_URL: TEST_DATABASE_URL },
      },
    );
    expect(stdout).toContain(traceId);

    // docs/observability.md shows this trace: UPDATE_DOCS=1 redraws it from the run.
    const diagram = traceDiagram(spans, receiver.spans);
    const doc = readFileSync(DOC, 'utf8');
    if (process.env.UPDATE_DOCS === '1') writeFileSync(DOC, doc.replace(DIAGRAM, `$1${diagram}$3`));
    else expect(diagramSteps(DIAGRAM.exec(doc)?.[2] ?? '')).toEqual(diagramSteps(diagram));
  }, 60_000);

  it('counts, times and logs each request once by route template: a 202, a 400, a 404 and a 401', async () => {
    const customer = await asCustomer('customer-http');
    const orders = `${system.order.url}/orders`;
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(orders, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const unknown = randomUUID();
    const answers = [
      await post(
        { items: [{ sku: 'E2E-TRACE-1', quantity: 1 }] },
        {
          ...customer,
          'x-request-id': 'obs-request-1',
        },
      ),
      await post({ items: [] }, customer),
      await fetch(`${orders}/${unknown}`, { headers: customer }),
      await fetch(`${orders}/${unknown}`),
    ];
    expect(answers.map((res) => res.status)).toEqual([202, 400, 404, 401]);
    // A caller's request id is kept; otherwise one is made. Either way it comes back.
    const requestIds = answers.map((res) => res.headers.get('x-request-id'));
    expect(requestIds[0]).toBe('obs-request-1');
    expect(new Set(requestIds).size).toBe(4);

    const page = await (await fetch(`${system.order.url}/metrics`)).text();
    // Each of the app's JetStream consumers, as the server reports it at the scrape.
    const backlog = samples(page, 'jetstream_consumer_pending').map((s) => s.labels.consumer);
    expect(backlog.sort()).toEqual(
      samples(page, 'jetstream_consumer_redelivered')
        .map((s) => s.labels.consumer)
        .sort(),
    );
    expect(backlog).toHaveLength(SUBSCRIPTIONS.order!.length);
    const counted = samples(page, 'http_requests_total').map((s) => s.labels);
    for (const [method, route, status] of [
      ['POST', '/orders', '202'],
      ['POST', '/orders', '400'],
      ['GET', '/orders/:id', '404'],
      ['GET', '/orders/:id', '401'],
    ]) {
      expect(counted).toContainEqual({ method, route, status, service: 'order' });
    }
    const timed = samples(page, 'http_request_duration_seconds_count').find(
      (s) => s.labels.route === '/orders/:id' && s.labels.method === 'GET',
    );
    expect(timed?.value).toBeGreaterThanOrEqual(2);
    // Labels are templates: no id of any request shows.
    expect(page).not.toContain(unknown);

    const { orderId } = (await answers[0]!.json()) as { orderId: string };
    const logged = await eventually(() => {
      const lines = logLines(system.order.stdout()).filter((l) => l.msg === 'request');
      const mine = requestIds.map((id) => lines.filter((line) => line.requestId === id));
      return mine.every((found) => found.length > 0) ? mine : undefined;
    });
    expect(logged.map((found) => found.length)).toEqual([1, 1, 1, 1]);
    expect(logged.map(([line]) => line)).toEqual([
      expect.objectContaining({
        method: 'POST',
        route: '/orders',
        status: 202,
        durationMs: expect.any(Number),
        principal: { sub: 'customer-http', tenantId: 'default' },
      }),
      expect.objectContaining({ method: 'POST', route: '/orders', status: 400 }),
      expect.objectContaining({ method: 'GET', route: '/orders/:id', status: 404 }),
      expect.not.objectContaining({ principal: expect.anything() }),
    ]);
    expect(logged[3]![0]).toMatchObject({ route: '/orders/:id', status: 401 });
    // Inside the request's server span: the line carries its trace.
    expect(logged[0]![0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    // Neither the bearer token nor the body of a request is logged.
    const token = customer.authorization.replace('Bearer ', '');
    expect(system.order.stdout()).not.toContain(token);
    expect(system.order.stdout()).not.toContain('"items"');

    // The payment's client secret is in the answer, never in the payment app's log.
    const { clientSecret } = await system.untilPayment(orderId, 'PENDING');
    const res = await fetch(`${system.payment!.url}/payments/${orderId}`, { headers: customer });
    expect(((await res.json()) as { clientSecret: string }).clientSecret).toBe(clientSecret);
    const requestId = res.headers.get('x-request-id');
    await eventually(() =>
      logLines(system.payment!.stdout()).find(
        (line) => line.requestId === requestId && line.route === '/payments/:orderId',
      ),
    );
    expect(clientSecret).toMatch(/_secret_/);
    expect(system.payment!.stdout()).not.toContain(clientSecret!);
    expect(system.payment!.stdout()).not.toContain(token);
  }, 60_000);
});
