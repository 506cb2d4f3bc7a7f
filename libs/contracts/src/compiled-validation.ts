import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/** A decorated class, as class-validator's metadata storage keys it. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- class-validator's own key type
type DecoratedClass = Function;

/** A class's rules, compiled: whether an instance breaks none of them. */
type Check = (object: object, whitelist: boolean) => boolean;

interface Constraint {
  validate: (value: unknown, args: ValidationArguments) => unknown;
  each: boolean;
  constraints: unknown[];
}

interface PropertyRules {
  name: string;
  conditions: ((object: object, value: unknown) => boolean)[];
  /** `@IsDefined` first, then the others, in class-validator's order. */
  constraints: Constraint[];
  nested: boolean;
}

const checks = new Map<unknown, Check | null>();

/**
 * Whether class-validator would find nothing wrong with `object` (an instance of a decorated class;
 * with `whitelist`, no property without a rule either), answered without building its errors:
 * class-validator looks every class's rules up again and builds an error object per property on
 * every call, which made it the largest cost of handling an event. The rules are read once per
 * class and its validators called directly, exactly as class-validator calls them.
 *
 * Only "true" is an answer: false means "ask class-validator", which also words the problems. So a
 * class this cannot compile (no rules, an asynchronous or conditional-on-groups rule) is always
 * false, and a value it is unsure of fails here and is decided there.
 */
export function passesValidation(object: object, whitelist = false): boolean {
  const check = checkFor(object.constructor);
  return check !== null && check(object, whitelist);
}

function checkFor(type: unknown): Check | null {
  let check = checks.get(type);
  if (check === undefined) {
    check = typeof type === 'function' ? compile(type) : null;
    checks.set(type, check);
  }
  return check;
}

function compile(type: DecoratedClass): Check | null {
  // As validateSync and ValidationPipe look them up: no groups, `always` off.
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', false, false);
  // No rules: class-validator refuses the value as unknown (forbidUnknownValues).
  if (metadatas.length === 0) return null;
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const properties: PropertyRules[] = [];
  for (const [name, list] of byProperty) {
    const rules = propertyRules(name, list);
    if (!rules) return null;
    properties.push(rules);
  }
  const known = new Set(byProperty.keys());
  const targetName = type.name;
  return (object, whitelist) => {
    if (whitelist) for (const key of Object.keys(object)) if (!known.has(key)) return false;
    for (const property of properties) {
      if (!propertyPasses(object, property, targetName, whitelist)) return false;
    }
    return true;
  };
}

function propertyRules(name: string, metadatas: ValidationMetadata[]): PropertyRules | null {
  const rules: PropertyRules = { name, conditions: [], constraints: [], nested: false };
  const defined: Constraint[] = [];
  for (const metadata of metadatas) {
    switch (metadata.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        rules.conditions.push(
          metadata.constraints[0] as (object: object, value: unknown) => boolean,
        );
        break;
      case ValidationTypes.IS_DEFINED:
      case ValidationTypes.CUSTOM_VALIDATION: {
        const constraints = getMetadataStorage().getTargetValidatorConstraints(
          metadata.constraintCls,
        );
        for (const constraint of constraints) {
          if (constraint.async) return null;
          const instance = constraint.instance as {
            validate: (value: unknown, args: ValidationArguments) => unknown;
          };
          (metadata.type === ValidationTypes.IS_DEFINED ? defined : rules.constraints).push({
            validate: (value, args) => instance.validate(value, args),
            each: metadata.each === true,
            constraints: metadata.constraints,
          });
        }
        break;
      }
      case ValidationTypes.NESTED_VALIDATION:
        rules.nested = true;
        break;
      case ValidationTypes.WHITELIST:
        break;
      default:
        return null;
    }
  }
  rules.constraints.unshift(...defined);
  return rules;
}

/** class-validator's `performValidations` for one property, answering only pass or fail. */
function propertyPasses(
  object: object,
  rules: PropertyRules,
  targetName: string,
  whitelist: boolean,
): boolean {
  const value = (object as Record<string, unknown>)[rules.name];
  // Every condition is evaluated, as class-validator does, before deciding to skip.
  let validate = true;
  for (const condition of rules.conditions) validate = condition(object, value) && validate;
  if (!validate) return true;
  const args: ValidationArguments = {
    targetName,
    property: rules.name,
    object,
    value,
    constraints: [],
  };
  for (const constraint of rules.constraints) {
    if (!constraintPasses(constraint, value, { ...args, constraints: constraint.constraints })) {
      return false;
    }
  }
  return !rules.nested || nestedPasses(value, whitelist);
}

function constraintPasses(
  constraint: Constraint,
  value: unknown,
  args: ValidationArguments,
): boolean {
  const arrayLike = Array.isArray(value) || value instanceof Set || value instanceof Map;
  if (!constraint.each || !arrayLike) return constraint.validate(value, args) === true;
  const items: unknown[] = value instanceof Map ? [...value.values()] : [...(value as unknown[])];
  return items.every((item) => constraint.validate(item, args) === true);
}

/** class-validator's `nestedValidations`: an object of a decorated class, or a collection of them. */
function nestedPasses(value: unknown, whitelist: boolean): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value) || value instanceof Set || value instanceof Map) {
    const items: unknown[] = value instanceof Map ? [...value.values()] : [...(value as unknown[])];
    return items.every((item) => nestedPasses(item, whitelist));
  }
  return value instanceof Object && passesValidation(value, whitelist);
}
