import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { CONTROL_CHARACTER, isPlainObject, NUL } from '@lib/contracts';

/**
 * Deeper than any request or Stripe event nests. A body nesting deeper is refused before
 * class-transformer and class-validator walk it recursively (thousands of levels overflow them).
 */
export const MAX_JSON_DEPTH = 32;

/** Keys that reach prototypes when code copies objects: refused as unknown fields, wherever they are. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** What a string of some input must not contain, and how the answer names it. */
export interface ForbiddenCharacters {
  pattern: RegExp;
  name: string;
}

/** Any string of a body: Postgres text cannot hold NUL. */
export const NUL_CHARACTERS: ForbiddenCharacters = {
  pattern: new RegExp(NUL),
  name: 'NUL characters',
};
/** Path and query parameters are ids and filters: no control character at all. */
export const CONTROL_CHARACTERS: ForbiddenCharacters = {
  pattern: CONTROL_CHARACTER,
  name: 'control characters',
};

/**
 * The first problem of untrusted input before it is validated (nesting deeper than
 * MAX_JSON_DEPTH, a prototype key, a key or string holding a forbidden character or an unpaired
 * surrogate, which JSON escapes allow and jsonb and UTF-8 cannot hold), named by its
 * path like validation errors are (`items.0.sku`); undefined when there is none. It walks every
 * request body: the path is only built for a problem.
 */
export function untrustedInputProblem(
  value: unknown,
  forbidden: ForbiddenCharacters,
  path = '',
): string | undefined {
  const problem = problemIn(value, forbidden, 0);
  if (!problem) return undefined;
  const where = [path, ...problem.keys.reverse()].filter(Boolean).join('.');
  switch (problem.kind) {
    case 'depth':
      return `the input nests deeper than ${MAX_JSON_DEPTH} levels`;
    case 'prototype-key':
      return `property ${where} should not exist`;
    case 'key-character':
      return `property names must not contain ${forbidden.name}`;
    case 'character':
      return `${where || 'the value'} must not contain ${forbidden.name}`;
    case 'key-surrogate':
      return 'property names must be well-formed Unicode (no unpaired surrogates)';
    case 'surrogate':
      return `${where || 'the value'} must be well-formed Unicode (no unpaired surrogates)`;
  }
}

interface Problem {
  kind: 'depth' | 'prototype-key' | 'key-character' | 'character' | 'key-surrogate' | 'surrogate';
  /** From the problem up to the root. */
  keys: string[];
}

function problemIn(
  value: unknown,
  forbidden: ForbiddenCharacters,
  depth: number,
): Problem | undefined {
  if (typeof value === 'string') {
    if (forbidden.pattern.test(value)) return { kind: 'character', keys: [] };
    return value.isWellFormed() ? undefined : { kind: 'surrogate', keys: [] };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return { kind: 'depth', keys: [] };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = problemIn(value[index], forbidden, depth + 1);
      if (problem) {
        problem.keys.push(String(index));
        return problem;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) return { kind: 'prototype-key', keys: [key] };
    if (forbidden.pattern.test(key)) return { kind: 'key-character', keys: [key] };
    if (!key.isWellFormed()) return { kind: 'key-surrogate', keys: [key] };
    const problem = problemIn((value as Record<string, unknown>)[key], forbidden, depth + 1);
    if (problem) {
      problem.keys.push(key);
      return problem;
    }
  }
  return undefined;
}

/**
 * class-validator applies `@ValidateNested({ each: true })` to the elements of an inner array as
 * if they were the array's own, so `"items": [[{…}]]` passes as `"items": [{…}]` and fails later
 * in SQL (and `@ValidateNested()` takes `[{…}]` for `{…}`). Every element of such an array, and
 * every such single value, must be an object (of the declared class, which validation has then
 * checked); the problems are named like validation errors.
 */
export function nestedArrayProblems(instance: object, path = ''): string[] {
  return nestedPropertiesOf(instance.constructor).flatMap(({ propertyName, each }) => {
    const value: unknown = (instance as Record<string, unknown>)[propertyName];
    const propertyPath = `${path}${propertyName}`;
    if (!each) {
      if (Array.isArray(value)) return [`${propertyPath} must be an object`];
      return isPlainObject(value) ? nestedArrayProblems(value, `${propertyPath}.`) : [];
    }
    if (!Array.isArray(value)) return [];
    return value.flatMap((element: unknown, index) =>
      isPlainObject(element)
        ? nestedArrayProblems(element, `${propertyPath}.${index}.`)
        : [`each value in ${propertyPath} must be an object`],
    );
  });
}

const nestedProperties = new Map<unknown, { propertyName: string; each: boolean }[]>();

/** The `@ValidateNested` properties of a class, looked up once: every request body is checked. */
function nestedPropertiesOf(type: unknown): { propertyName: string; each: boolean }[] {
  let properties = nestedProperties.get(type);
  if (!properties) {
    properties = getMetadataStorage()
      .getTargetValidationMetadatas(type as new () => unknown, '', true, false)
      .filter((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION)
      .map(({ propertyName, each }) => ({ propertyName, each }));
    nestedProperties.set(type, properties);
  }
  return properties;
}
