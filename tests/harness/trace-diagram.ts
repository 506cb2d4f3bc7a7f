import { ReceivedSpan } from './otlp-receiver';

/** The spans a reader follows an order by: requests, publishes, deliveries and Stripe. */
const SHOWN = /^(\S+ (publish|process)|stripe .+|(GET|POST|PUT) \/.*)$/;

/**
 * A Mermaid sequence diagram of one trace as the OTLP receiver got it, in the order its spans
 * started: the request that started it, each event published to JetStream and each delivery of it
 * (with its delivery count and failure), the Stripe calls, and the webhook that continues it from
 * a trace of its own.
 */
export function traceDiagram(trace: ReceivedSpan[], linkedTraces: ReceivedSpan[]): string {
  const steps = trace
    .filter((span) => SHOWN.test(span.name))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    .flatMap((span) => arrows(span, linkedTraces));
  return [
    'sequenceDiagram',
    '  participant client',
    '  participant order',
    '  participant JetStream',
    '  participant inventory',
    '  participant payment',
    '  participant stripe',
    ...steps,
  ].join('\n');
}

/** The steps of a diagram, whatever their order: concurrent spans may start in either order. */
export function diagramSteps(diagram: string): string[] {
  return diagram.split('\n').sort();
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
