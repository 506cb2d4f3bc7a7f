import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  validateSync,
  ValidationError,
  ValidationTypes,
} from 'class-validator';
import { EventDefinition, EventEnvelope, EventPayloadClass } from './envelope';

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  readonly code = 'CONTRACTS.INVALID_EVENT';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks an incoming body against the envelope and the payload class of its definition.
 * Unknown payload fields are kept: adding an optional field does not change the version.
 */
export function parseEvent<P extends object>(
  definition: EventDefinition<P>,
  body: unknown,
): EventEnvelope<P> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidEventError('body is not a JSON object');
  }
  const e = body as Record<string, unknown>;
  requireString(e, 'eventId', UUID);
  requireString(e, 'correlationId');
  requireString(e, 'occurredAt');
  if (Number.isNaN(Date.parse(e.occurredAt as string))) {
    throw new InvalidEventError('occurredAt is not a date');
  }
  if (e.eventName !== definition.eventName || e.eventVersion !== definition.eventVersion) {
    throw new InvalidEventError(
      `expected ${definition.eventName} v${definition.eventVersion}, got ${String(e.eventName)} v${String(e.eventVersion)}`,
    );
  }
  if (e.causationId !== null && typeof e.causationId !== 'string') {
    throw new InvalidEventError('causationId must be a string or null');
  }
  if (e.sagaId !== undefined) requireString(e, 'sagaId');
  if (e.tenantId !== undefined) requireString(e, 'tenantId');
  if (typeof e.payload !== 'object' || e.payload === null || Array.isArray(e.payload)) {
    throw new InvalidEventError('payload is not an object');
  }
  const payload = toInstance(definition.payloadClass, e.payload);
  const errors = validateSync(payload, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new InvalidEventError(`payload invalid: ${describeErrors(errors)}`);
  }
  return { ...(e as unknown as EventEnvelope<P>), payload };
}

/**
 * class-validator needs an instance of the payload class. class-transformer builds one, but it is
 * the most expensive step of handling a message; only classes with nested classes need it.
 */
function toInstance<P extends object>(payloadClass: EventPayloadClass<P>, plain: object): P {
  if (hasNestedClasses(payloadClass)) return plainToInstance(payloadClass, plain);
  return Object.assign(Object.create(payloadClass.prototype as object) as P, plain);
}

const nested = new WeakMap<EventPayloadClass, boolean>();

function hasNestedClasses(payloadClass: EventPayloadClass): boolean {
  let result = nested.get(payloadClass);
  if (result === undefined) {
    result = getMetadataStorage()
      .getTargetValidationMetadatas(payloadClass, '', true, false)
      .some((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION);
    nested.set(payloadClass, result);
  }
  return result;
}

function requireString(e: Record<string, unknown>, field: string, pattern?: RegExp): void {
  const value = e[field];
  if (typeof value !== 'string' || value.length === 0 || (pattern && !pattern.test(value))) {
    throw new InvalidEventError(`${field} is missing or malformed`);
  }
}

export function describeErrors(errors: ValidationError[], prefix = ''): string {
  return errors
    .flatMap((error) => {
      const path = `${prefix}${error.property}`;
      const own = Object.values(error.constraints ?? {}).map((message) => `${prefix}${message}`);
      const nested = error.children?.length ? [describeErrors(error.children, `${path}.`)] : [];
      return [...own, ...nested];
    })
    .join('; ');
}
