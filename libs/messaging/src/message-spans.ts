import { MsgHdrs } from '@nats-io/nats-core';
import {
  currentTraceCarrier,
  inSpan,
  SpanKind,
  SpanOptions,
  TraceCarrier,
} from '@lib/observability';

/*
 * The spans of the asynchronous path, after OpenTelemetry's messaging semantic conventions: a
 * PRODUCER span per published event (a child of the context its outbox row was written in, whether
 * its writer or the relay publishes it), and the transport's CONSUMER span per delivery (a child of the producer's, from the W3C
 * headers), in which the handler runs.
 */

const W3C_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * Publishes an outbox row in a PRODUCER span, a child of the context the row was written in, and
 * sends that span's W3C headers with it.
 */
export function publishInTrace<T>(
  message: { subject: string; eventId: string; headers: MsgHdrs },
  writtenIn: TraceCarrier,
  publish: () => Promise<T>,
): Promise<T> {
  const { subject, eventId, headers } = message;
  const span: SpanOptions = {
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
  return inSpan(`${subject} publish`, span, () => {
    const carrier = currentTraceCarrier();
    for (const name of W3C_HEADERS) {
      const value = carrier?.[name];
      if (value) headers.set(name, value);
    }
    return publish();
  });
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

function carrierIn(headers: MsgHdrs | undefined): TraceCarrier | undefined {
  const traceparent = headers?.get('traceparent');
  if (!traceparent) return undefined;
  const tracestate = headers?.get('tracestate');
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
