import { OtlpReceiver, ReceivedSpan } from '../harness/otlp-receiver';
import { SagaSystem } from '../harness/saga-system';
import { eventually } from '../harness/wait';

const PAID = '4242424242424242';

/** The spans of the asynchronous path and of Stripe: what the saga's trace is made of. */
const PATH_SPAN = /^(\S+ (publish|process)|stripe .*)$/;

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
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  it('follows a paid order from POST /orders through every publish and consumer to the stock commit, with the webhook linked', async () => {
    await system.putProduct('E2E-TRACE-1', 5, 1500);
    // Stripe fails the first PaymentIntent creation: payment's first delivery is retried.
    await system.stripe!.failNext('api_error', 1);
    const orderId = await system.placeOrder([{ sku: 'E2E-TRACE-1', quantity: 1 }]);
    const { paymentIntentId } = await system.untilPayment(orderId, 'PENDING');
    await system.stripe!.confirm(paymentIntentId!, PAID);
    const order = await system.untilSaga(orderId, 'COMPLETED');
    const traceId = (order.saga as { traceId?: string }).traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    // The inventory commit is the last span of the order's trace.
    const commit = await eventually(
      () =>
        receiver
          .trace(traceId!)
          .find((s) => s.service === 'inventory' && s.name === 'order.confirmed.v1 process'),
      { timeoutMs: 15_000, what: "the inventory commit's span" },
    );
    const spans = receiver.trace(traceId!);
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
  }, 60_000);
});
