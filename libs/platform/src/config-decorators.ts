import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';

/**
 * An optional integer variable: converted from its environment string and range-checked, with
 * messages that name it. Validation reports the decorator nearest the property first, so the
 * type check sits last.
 */
export function IntVariable(name: string, min: number, max?: number): PropertyDecorator {
  const range = max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
  const nearestFirst: PropertyDecorator[] = [
    IsInt({ message: `${name} must be an integer` }),
    ...(max === undefined ? [] : [Max(max, { message: `${name} must be ${range}` })]),
    Min(min, { message: `${name} must be ${range}` }),
    Type(() => Number),
    IsOptional(),
  ];
  return (target, key) => nearestFirst.forEach((decorate) => decorate(target, key));
}

/**
 * A check of one variable that may read the others: `problem` says what is wrong (the message
 * naming the variable), or undefined when nothing is. Put it on a variable that always has a
 * value when it must run whatever is set: validators of an unset optional variable do not run.
 */
export function CheckedWith<C extends object>(
  name: string,
  problem: (config: C, value: unknown) => string | undefined,
): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value, args) => problem(args?.object as C, value) === undefined,
      defaultMessage: (args) => problem(args?.object as C, args?.value) ?? '',
    },
  });
}
