import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { CONTROL_CHARACTER, NUL } from '@lib/contracts';

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
 * MAX_JSON_DEPTH, a prototype key, a key or string holding a forbidden character), named by its
 * path like validation errors are (`items.0.sku`); undefined when there is none.
 */
export function untrustedInputProblem(
  value: unknown,
  forbidden: ForbiddenCharacters,
  path = '',
  depth = 0,
): string | undefined {
  if (typeof value === 'string') {
    return forbidden.pattern.test(value)
      ? `${path || 'the value'} must not contain ${forbidden.name}`
      : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return `the input nests deeper than ${MAX_JSON_DEPTH} levels`;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (PROTOTYPE_KEYS.has(key)) return `property ${childPath} should not exist`;
    if (forbidden.pattern.test(key)) return `property names must not contain ${forbidden.name}`;
    const problem = untrustedInputProblem(child, forbidden, childPath, depth + 1);
    if (problem) return problem;
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
  return getMetadataStorage()
    .getTargetValidationMetadatas(instance.constructor, '', true, false)
    .filter((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION)
    .flatMap(({ propertyName, each }) => {
      const value: unknown = (instance as Record<string, unknown>)[propertyName];
      const propertyPath = `${path}${propertyName}`;
      if (!each) {
        if (Array.isArray(value)) return [`${propertyPath} must be an object`];
        return isObject(value) ? nestedArrayProblems(value, `${propertyPath}.`) : [];
      }
      if (!Array.isArray(value)) return [];
      return value.flatMap((element: unknown, index) =>
        isObject(element)
          ? nestedArrayProblems(element, `${propertyPath}.${index}.`)
          : [`each value in ${propertyPath} must be an object`],
      );
    });
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
