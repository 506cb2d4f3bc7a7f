import { MsgHdrs } from '@nats-io/nats-core';
import { SpanKind, SpanOptions, TraceCarrier } from '@lib/observability';

/*
 * The spans of the asynchronous path, after OpenTelemetry's messaging semantic conventions: the
 * relay's PRODUCER span per published event (a child of the context its outbox row was written
 * in), and the transport's CONSUMER span per delivery (a child of the producer's, from the W3C
 * headers), in which the handler runs.
 */

const W3C_HEADERS = ['traceparent', 'tracestate'] as const;

/** The relay's span for publishing one outbox row. */
export function publishSpan(
  subject: string,
  eventId: string,
  writtenIn: TraceCarrier,
): SpanOptions & { name: string } {
  return {
    name: `${subject} publish`,
    kind: SpanKind.PRODUCER,
    parent: writtenIn,
    attributes: {
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': subject,
      'messaging.message.id': eventId,
    },
  };
}

/** The transport's span for handling one delivery of an event. */
export function processSpan(
  delivery: { subject: string; headers?: MsgHdrs; deliveryCount: number; stream: string },
  consumer: string,
  eventId: string,
): SpanOptions & { name: string } {
  return {
    name: `${delivery.subject} process`,
    kind: SpanKind.CONSUMER,
    // A message published without a trace (a replay, another client) starts one.
    parent: carrierIn(delivery.headers) ?? 'new-trace',
    handles: eventId,
    attributes: {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': delivery.subject,
      'messaging.consumer.group.name': consumer,
      'messaging.message.id': eventId,
      // JetStream has no semantic convention of its own; named as other brokers' are.
      'messaging.nats.message.delivery_count': delivery.deliveryCount,
      'messaging.nats.stream': delivery.stream,
    },
  };
}

/** Adds the W3C headers of the current span to a message's headers. */
export function setTraceHeaders(headers: MsgHdrs, carrier: TraceCarrier | undefined): void {
  for (const name of W3C_HEADERS) {
    const value = carrier?.[name];
    if (value) headers.set(name, value);
  }
}

function carrierIn(headers: MsgHdrs | undefined): TraceCarrier | undefined {
  const traceparent = headers?.get('traceparent');
  if (!traceparent) return undefined;
  const tracestate = headers?.get('tracestate');
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
