import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** Applies several property decorators as one. */
export function applyDecorators(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

/** Shared field rules, so every event and request spells an SKU, an amount or a currency the same way. */
export const SKU_PATTERN = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

export const IsSku = () =>
  applyDecorators(
    Matches(SKU_PATTERN, { message: '$property must be 1-64 characters of A-Z 0-9 . _ -' }),
    IsString(),
  );

/** ISO 4217, upper case: `EUR`. */
export const IsCurrency = () =>
  applyDecorators(
    Matches(CURRENCY_PATTERN, { message: '$property must be an ISO 4217 code like EUR' }),
    IsString(),
  );

/** Money is an integer number of minor units (cents). */
export const IsMinorUnits = () => applyDecorators(Min(0), Max(Number.MAX_SAFE_INTEGER), IsInt());

export const IsQuantity = () => applyDecorators(Min(1), IsInt());

export const IsReason = () => applyDecorators(MaxLength(500), IsString());
