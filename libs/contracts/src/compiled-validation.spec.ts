import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { IsDefined, IsInt, IsOptional, IsString, validateSync, ValidateIf } from 'class-validator';
import { passesValidation } from './compiled-validation';
import { EventDefinition } from './envelope';
import { EVENT_CATALOG } from './event-catalog';
import { subjectFor } from './envelope';

const FIXTURES = join(__dirname, '..', 'fixtures');

function fixturePayload(definition: EventDefinition): Record<string, unknown> {
  const file = join(FIXTURES, `${subjectFor(definition.eventName, definition.eventVersion)}.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { payload: Record<string, unknown> }).payload;
}

/** Values that break some rule or other: wrong types, empty, huge, hostile. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'a\u0000b',
  'EUR',
  'eur',
  '00000000-0000-4000-8000-000000000000',
  -1,
  0,
  1.5,
  2 ** 60,
  Number.NaN,
  true,
  [],
  [[]],
  [{}],
  [[{ sku: 'A', quantity: 1 }]],
  {},
  { sku: 'A', quantity: 1 },
  'A'.repeat(600),
];

/** A valid payload, then the same with each field set to each odd value, dropped, or one added. */
function variants(valid: Record<string, unknown>): Record<string, unknown>[] {
  const out = [valid, { ...valid, unknownField: 1 }];
  for (const key of Object.keys(valid)) {
    const without = { ...valid };
    delete without[key];
    out.push(without);
    for (const value of ODD_VALUES) out.push({ ...valid, [key]: value });
    const field = valid[key];
    if (Array.isArray(field) && typeof field[0] === 'object' && field[0] !== null) {
      const line = field[0] as Record<string, unknown>;
      for (const lineKey of Object.keys(line)) {
        for (const value of ODD_VALUES) {
          out.push({ ...valid, [key]: [{ ...line, [lineKey]: value }, ...field.slice(1)] });
        }
      }
    }
  }
  return out;
}

describe('passesValidation', () => {
  it.each(EVENT_CATALOG.map((d) => [subjectFor(d.eventName, d.eventVersion), d] as const))(
    'agrees with class-validator on %s and answers its fixture at once',
    (_subject, definition) => {
      const valid = fixturePayload(definition);
      const instance = (plain: object): object => plainToInstance(definition.payloadClass, plain);
      // The fixture passes without asking class-validator: the fast path is the one taken.
      expect(passesValidation(instance(valid))).toBe(true);
      for (const variant of variants(valid)) {
        const object = instance(variant);
        if (passesValidation(object)) {
          expect([variant, validateSync(object, { forbidUnknownValues: true })]).toEqual([
            variant,
            [],
          ]);
        }
      }
    },
  );

  it('refuses unknown properties with whitelist, as forbidNonWhitelisted does', () => {
    const definition = EVENT_CATALOG[0]!;
    const valid: object = plainToInstance(definition.payloadClass, fixturePayload(definition));
    expect(passesValidation(valid, true)).toBe(true);
    expect(passesValidation(Object.assign(valid, { extra: 1 }), true)).toBe(false);
  });

  it('leaves to class-validator what it cannot decide: objects without rules', () => {
    expect(passesValidation({})).toBe(false);
    expect(passesValidation(new (class Undecorated {})())).toBe(false);
  });

  it('skips a property whose condition is false, and checks @IsDefined first', () => {
    class Conditional {
      @IsOptional() @IsInt() count?: number;
      @ValidateIf((o: Conditional) => o.count === 1) @IsString() name?: string;
      @IsDefined() required: unknown;
    }
    const of = (plain: object) => Object.assign(new Conditional(), plain);
    expect(passesValidation(of({ required: 0 }))).toBe(true);
    expect(passesValidation(of({ required: 0, count: 2, name: 5 }))).toBe(true);
    expect(passesValidation(of({ required: 0, count: 1, name: 5 }))).toBe(false);
    expect(passesValidation(of({ count: 1, name: 'n' }))).toBe(false);
    expect(validateSync(of({ count: 1, name: 'n' }))).not.toEqual([]);
  });
});
