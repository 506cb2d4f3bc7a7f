import { plainToInstance } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import {
  getMetadataStorage,
  validateSync,
  ValidationError,
  ValidationTypes,
} from 'class-validator';
import { passesValidation } from './compiled-validation';
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
  requireString(e.eventId, 'eventId', UUID);
  requireString(e.correlationId, 'correlationId');
  requireString(e.occurredAt, 'occurredAt');
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
  if (e.sagaId !== undefined) requireString(e.sagaId, 'sagaId');
  if (e.tenantId !== undefined) requireString(e.tenantId, 'tenantId');
  if (typeof e.payload !== 'object' || e.payload === null || Array.isArray(e.payload)) {
    throw new InvalidEventError('payload is not an object');
  }
  const payload = instanceOf(definition.payloadClass, e.payload);
  if (!passesValidation(payload)) {
    // class-validator decides, on class-transformer's instance as before, and words the problems.
    const exact = plainToInstance(definition.payloadClass, e.payload);
    const errors = validateSync(exact, { forbidUnknownValues: true });
    if (errors.length > 0) {
      throw new InvalidEventError(`payload invalid: ${describeErrors(errors)}`);
    }
    return { ...(e as unknown as EventEnvelope<P>), payload: exact };
  }
  return { ...(e as unknown as EventEnvelope<P>), payload };
}

/**
 * The payload as an instance of its class, and its nested objects (`@Type`) as instances of
 * theirs: what class-validator reads rules from. class-transformer builds the same for these
 * plain classes, but its general machinery was most of the cost of handling a message.
 */
function instanceOf<P extends object>(payloadClass: EventPayloadClass<P>, plain: object): P {
  const instance = Object.assign(Object.create(payloadClass.prototype as object) as P, plain);
  for (const { property, type } of nestedTypesOf(payloadClass)) {
    const record = instance as Record<string, unknown>;
    const value = record[property];
    if (Array.isArray(value)) {
      record[property] = value.map((item: unknown) =>
        isPlainObject(item) ? instanceOf(type, item) : item,
      );
    } else if (isPlainObject(value)) {
      record[property] = instanceOf(type, value);
    }
  }
  return instance;
}

const nestedTypes = new Map<unknown, { property: string; type: EventPayloadClass }[]>();

/** The `@ValidateNested` properties of a class with the class their `@Type` names, looked up once. */
function nestedTypesOf(
  payloadClass: EventPayloadClass,
): { property: string; type: EventPayloadClass }[] {
  let types = nestedTypes.get(payloadClass);
  if (!types) {
    types = getMetadataStorage()
      .getTargetValidationMetadatas(payloadClass, '', true, false)
      .filter((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION)
      .flatMap(({ propertyName }) => {
        const typeMetadata = defaultMetadataStorage.findTypeMetadata(payloadClass, propertyName);
        const type = typeMetadata?.typeFunction() as EventPayloadClass | undefined;
        return type ? [{ property: propertyName, type }] : [];
      });
    nestedTypes.set(payloadClass, types);
  }
  return types;
}

/** An object that is not null and not an array: a JSON object, as parsed. */
export function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Takes the value rather than its key: a keyed read by a variable name is slow on a hot path. */
function requireString(value: unknown, field: string, pattern?: RegExp): void {
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
