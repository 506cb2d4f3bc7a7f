import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

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
