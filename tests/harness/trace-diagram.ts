import { ReceivedSpan } from './otlp-receiver';

/** The spans a reader follows an order by: requests, publishes, deliveries and Stripe. */
const SHOWN = /^(\S+ (publish|process)|stripe .+|(GET|POST|PUT) \/.*)$/;

/**
 * A Mermaid sequence diagram of one trace as the OTLP receiver got it: the request that started
 * it, each event published to JetStream and each delivery of it (with its delivery count and
 * failure), the Stripe calls, and the webhook that continues it from a trace of its own. Siblings
 * run concurrently, so they are drawn in a fixed order (by name, service and delivery), not by
 * time: the diagram is the same on every run.
 */
export function traceDiagram(trace: ReceivedSpan[], linkedTraces: ReceivedSpan[]): string {
  const shown = trace.filter((span) => SHOWN.test(span.name));
  const byId = new Map(trace.map((span) => [span.spanId, span]));
  const shownParent = (span: ReceivedSpan): ReceivedSpan | undefined => {
    for (let p = byId.get(span.parentSpanId ?? ''); p; p = byId.get(p.parentSpanId ?? '')) {
      if (SHOWN.test(p.name)) return p;
    }
    return undefined;
  };
  const children = new Map<ReceivedSpan | undefined, ReceivedSpan[]>();
  for (const span of shown) {
    const parent = shownParent(span);
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const order = (a: ReceivedSpan, b: ReceivedSpan) =>
    a.name.localeCompare(b.name) ||
    a.service.localeCompare(b.service) ||
    Number(a.attributes['messaging.nats.message.delivery_count'] ?? 0) -
      Number(b.attributes['messaging.nats.message.delivery_count'] ?? 0);
  const lines = [
    'sequenceDiagram',
    '  participant client',
    '  participant order',
    '  participant JetStream',
    '  participant inventory',
    '  participant payment',
    '  participant stripe',
  ];
  const draw = (span: ReceivedSpan): void => {
    lines.push(...arrows(span, linkedTraces));
    for (const child of (children.get(span) ?? []).sort(order)) draw(child);
  };
  for (const root of (children.get(undefined) ?? []).sort(order)) draw(root);
  return lines.join('\n');
}

function arrows(span: ReceivedSpan, linkedTraces: ReceivedSpan[]): string[] {
  const failed = span.statusCode === 2 ? ' ✗ failed' : '';
  const [subject, operation] = span.name.split(' ');
  if (operation === 'publish') return [`  ${span.service}->>JetStream: ${subject}`];
  if (operation === 'process') {
    const delivery = span.attributes['messaging.nats.message.delivery_count'];
    return [`  JetStream->>${span.service}: ${subject} (delivery ${delivery})${failed}`];
  }
  if (span.name.startsWith('stripe webhook ')) {
    const linked = span.links.flatMap((link) =>
      linkedTraces.filter((s) => s.traceId === link.traceId && s.kind === 'server'),
    );
    return [
      ...linked.map((s) => `  stripe->>${s.service}: ${s.name} (a trace of its own, linked)`),
      `  Note over ${span.service}: ${span.name.slice('stripe '.length)}, in the order's trace`,
    ];
  }
  if (span.name.startsWith('stripe ')) {
    return [`  ${span.service}->>stripe: ${span.name.slice('stripe '.length)}${failed}`];
  }
  return [`  client->>${span.service}: ${span.name}`];
}
