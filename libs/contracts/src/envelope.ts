import { randomUUID } from 'node:crypto';
import { rememberTraceContext } from '@lib/observability';

/** The JSON body of every message on the backbone (see docs/architecture.md). */
export interface EventEnvelope<P = unknown> {
  eventId: string;
  eventName: string;
  eventVersion: number;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  sagaId?: string;
  tenantId?: string;
  payload: P;
}

export type EventPayloadClass<P extends object = object> = new () => P;

/** One published version of one event: its name, version, subject and payload class. */
export interface EventDefinition<P extends object = object> {
  readonly eventName: string;
  readonly eventVersion: number;
  readonly subject: string;
  readonly payloadClass: EventPayloadClass<P>;
}

export function subjectFor(eventName: string, eventVersion: number): string {
  return `${eventName}.v${eventVersion}`;
}

export function defineEvent<P extends object>(
  eventName: string,
  eventVersion: number,
  payloadClass: EventPayloadClass<P>,
): EventDefinition<P> {
  return { eventName, eventVersion, subject: subjectFor(eventName, eventVersion), payloadClass };
}

export interface EventOrigin {
  /** The event being handled: its correlation, saga and tenant carry over and it becomes the cause. */
  cause?: EventEnvelope;
  /** Without a cause at hand: the id of the event that caused this one (a command sent again). */
  causationId?: string | null;
  correlationId?: string;
  sagaId?: string;
  tenantId?: string;
}

/** Builds a new envelope; without a cause or correlation id the event starts its own conversation. */
export function createEvent<P extends object>(
  definition: EventDefinition<P>,
  payload: P,
  origin: EventOrigin = {},
): EventEnvelope<P> {
  const eventId = randomUUID();
  const sagaId = origin.sagaId ?? origin.cause?.sagaId;
  const tenantId = origin.tenantId ?? origin.cause?.tenantId;
  const event: EventEnvelope<P> = {
    eventId,
    eventName: definition.eventName,
    eventVersion: definition.eventVersion,
    occurredAt: new Date().toISOString(),
    correlationId: origin.correlationId ?? origin.cause?.correlationId ?? eventId,
    causationId: origin.cause?.eventId ?? origin.causationId ?? null,
    ...(sagaId === undefined ? {} : { sagaId }),
    ...(tenantId === undefined ? {} : { tenantId }),
    payload: { ...payload },
  };
  // The outbox stores it with the event: the relay continues the trace from there.
  rememberTraceContext(event);
  return event;
}
