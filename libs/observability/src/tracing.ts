import {
  Attributes,
  context,
  Context,
  Link,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/*
 * Tracing as the libs see it, on OpenTelemetry's API only (the SDK is started by `startTracing`).
 * Everything here answers at once when tracing is off: no context is read or serialised, no span
 * is made, so the messaging hot path pays one boolean test per event.
 */

let tracing = false;

/** Whether `startTracing` started the SDK in this process. */
export function tracingOn(): boolean {
  return tracing;
}

/** Called by `startTracing` once the SDK is registered. */
export function markTracingOn(): void {
  tracing = true;
}

/**
 * The HTTP server span of the request being served takes its route template (`http.route`, and
 * the span's name `POST /orders/:id`) when it ends: what the Express instrumentation does for
 * Express, here for the apps' Fastify edge.
 */
export function setHttpRoute(route: string): void {
  if (!tracing) return;
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/**
 * A trace context as W3C headers (`traceparent`, and `tracestate` when there is one): how it is
 * stored with an outbox row, a saga or a reservation, put in a PaymentIntent's metadata and sent as
 * NATS headers.
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id a stored context belongs to, for operators (`saga show`, the order view). */
export function traceIdOf(carrier: TraceCarrier | null | undefined): string | null {
  return TRACEPARENT.exec(carrier?.traceparent ?? '')?.[1] ?? null;
}

/** The W3C headers of a context; undefined when it holds no valid span. */
export function carrierOf(ctx: Context): TraceCarrier | undefined {
  const carrier: Partial<TraceCarrier> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ? (carrier as TraceCarrier) : undefined;
}

/** The W3C headers of the current span, or nothing (tracing off, or no span). */
export function currentTraceCarrier(): TraceCarrier | undefined {
  return tracing ? carrierOf(context.active()) : undefined;
}

function contextOf(carrier: TraceCarrier): Context {
  return propagation.extract(ROOT_CONTEXT, carrier);
}

function linksTo(carriers: readonly (TraceCarrier | null | undefined)[]): Link[] {
  const links: Link[] = [];
  for (const carrier of carriers) {
    const linked = carrier && trace.getSpanContext(contextOf(carrier));
    if (linked) links.push({ context: linked });
  }
  return links;
}

/*
 * The trace context of each event. Consumers hand events to batches (one transaction for the
 * messages that arrive together), so the context active where an outbox row is written is not
 * necessarily its own: an event remembers the context it was created in, or, when it answers an
 * event this process is handling, that event's consumer span.
 */
const createdIn = new WeakMap<object, TraceCarrier>();
const handling = new Map<string, Context>();

interface EventIds {
  eventId: string;
  causationId: string | null;
}

/** Called by `createEvent` for every new event. */
export function rememberTraceContext(event: EventIds): void {
  if (!tracing) return;
  const cause = event.causationId === null ? undefined : handling.get(event.causationId);
  const carrier = carrierOf(cause ?? context.active());
  if (carrier) createdIn.set(event, carrier);
}

/**
 * The trace an event belongs to in this process: the context it was created in, or the consumer
 * span handling it. Null when tracing is off or there is none.
 */
export function traceContextOf(event: EventIds): TraceCarrier | null {
  if (!tracing) return null;
  const created = createdIn.get(event);
  if (created) return created;
  const handled = handling.get(event.eventId);
  return (handled && carrierOf(handled)) ?? null;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /**
   * The span's parent: a stored context, or `'new-trace'` for a root span. By default the current
   * span.
   */
  parent?: TraceCarrier | 'new-trace';
  /** Other traces this work is about (the sagas whose deadline fired, a payment's webhook). */
  links?: readonly (TraceCarrier | null | undefined)[];
  /** The event this span handles: events created in answer to it belong to this span. */
  handles?: string;
}

/**
 * Runs `fn` in a new span that ends when it settles; a rejection marks the span as failed and is
 * passed on. With tracing off, just runs `fn` (with no span).
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span?: Span) => Promise<T>,
): Promise<T> {
  // Not async: off, `fn`'s own promise is answered, with no extra promise or microtask.
  return tracing ? runInSpan(name, options, fn) : fn();
}

async function runInSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span?: Span) => Promise<T>,
): Promise<T> {
  const { parent } = options;
  const parentContext =
    parent === undefined
      ? context.active()
      : parent === 'new-trace'
        ? ROOT_CONTEXT
        : contextOf(parent);
  const span = trace
    .getTracer('saga-platform')
    .startSpan(
      name,
      { kind: options.kind, attributes: options.attributes, links: linksTo(options.links ?? []) },
      parentContext,
    );
  const spanContext = trace.setSpan(parentContext, span);
  if (options.handles !== undefined) handling.set(options.handles, spanContext);
  try {
    return await context.with(spanContext, () => fn(span));
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    if (options.handles !== undefined) handling.delete(options.handles);
    span.end();
  }
}

/**
 * Runs `fn` in a span of a stored trace (e.g. a payment's, from its PaymentIntent's metadata), so
 * that what it writes continues that trace; the span and the current one (a webhook request's, a
 * trace of its own) are linked both ways. Without a stored context, `fn` runs where it is.
 */
export function continueTrace<T>(
  name: string,
  stored: TraceCarrier | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracing || !stored) return fn();
  const current = trace.getActiveSpan();
  const storedSpan = trace.getSpanContext(contextOf(stored));
  if (storedSpan) current?.addLink({ context: storedSpan });
  return inSpan(name, { parent: stored, links: [carrierOf(context.active())] }, fn);
}

/** `traceId` and `spanId` of the current span, for the log line being written (sampled spans only). */
export function traceLogFields(): { traceId: string; spanId: string } | undefined {
  if (!tracing) return undefined;
  const span = trace.getSpanContext(context.active());
  if (!span || !(span.traceFlags & TraceFlags.SAMPLED)) return undefined;
  return { traceId: span.traceId, spanId: span.spanId };
}

export { SpanKind, SpanStatusCode };
export type { Span };
