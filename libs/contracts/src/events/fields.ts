import { Transform } from 'class-transformer';
import {
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  NotContains,
  ValidateBy,
} from 'class-validator';
import { isIsoCurrency } from '../currencies';

/** Applies several property decorators as one. */
export function applyDecorators(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

/** Shared field rules, so every event and request spells an SKU, an amount or a currency the same way. */
export const SKU_PATTERN = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** C0 controls and DEL: never part of an id, a key or anything compared or looked up. */
// eslint-disable-next-line no-control-regex -- the control characters are what it finds
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** Postgres text cannot hold NUL: a string with one would fail in SQL instead of in validation. */
export const NUL = '\u0000';

export const IsSku = () =>
  applyDecorators(
    Matches(SKU_PATTERN, { message: '$property must be 1-64 characters of A-Z 0-9 . _ -' }),
    IsString(),
  );

/** ISO 4217, upper case: `EUR`. How events carry a currency (their producers normalised it). */
export const IsCurrency = () =>
  applyDecorators(
    Matches(CURRENCY_PATTERN, { message: '$property must be an ISO 4217 code like EUR' }),
    IsString(),
  );

/** The name of the rule `IsCurrencyCode` adds; the OpenAPI generator describes it by this name. */
export const ISO_CURRENCY_RULE = 'isIsoCurrency';

/**
 * A currency a client sends: an ISO 4217 code in any case (Stripe and the storefronts built on it
 * write `eur`), validated against the ISO list and turned upper case before anything reads it.
 */
export const IsCurrencyCode = () =>
  applyDecorators(
    ValidateBy({
      name: ISO_CURRENCY_RULE,
      validator: {
        validate: isIsoCurrency,
        defaultMessage: () => '$property must be an ISO 4217 currency code like EUR',
      },
    }),
    IsString(),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.toUpperCase() : value,
    ),
  );

/**
 * An id that is not a UUID (a customer, a tenant, a provider's id): 1 to `maxLength` characters,
 * none of them a control character.
 */
export const IsIdentifier = (maxLength = 100) =>
  applyDecorators(
    ValidateBy({
      name: 'noControlCharacters',
      validator: {
        validate: (value) => typeof value === 'string' && !CONTROL_CHARACTER.test(value),
        defaultMessage: () => '$property must not contain control characters',
      },
    }),
    Length(1, maxLength),
    IsString(),
  );

/** Free text (a name, a reason): at most `maxLength` characters, no NUL. */
export const IsText = (maxLength: number) =>
  applyDecorators(
    NotContains(NUL, { message: '$property must not contain NUL characters' }),
    MaxLength(maxLength),
    IsString(),
  );

/** Money is an integer number of minor units (cents). */
export const IsMinorUnits = () => applyDecorators(Min(0), Max(Number.MAX_SAFE_INTEGER), IsInt());

export const IsQuantity = () => applyDecorators(Min(1), IsInt());

export const IsReason = () => IsText(500);
