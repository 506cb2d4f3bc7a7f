import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { MAX, MIN } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { ISO_CURRENCY_RULE } from '@lib/contracts';

export type JsonSchema = Record<string, unknown>;

/**
 * The converters class-validator-jsonschema lacks or gets wrong: `@Min`/`@Max` set no type (its
 * own say `number`, which overrode `@IsInt`'s `integer`), and an ISO 4217 currency is three letters
 * in any case.
 */
const CONVERTERS = {
  [MIN]: (meta: ValidationMetadata) => ({ minimum: meta.constraints[0] as number }),
  [MAX]: (meta: ValidationMetadata) => ({ maximum: meta.constraints[0] as number }),
  [ISO_CURRENCY_RULE]: {
    type: 'string' as const,
    pattern: '^[A-Za-z]{3}$',
    description: 'An ISO 4217 code in any case (`eur`, `EUR`); stored and answered upper case.',
    example: 'EUR',
  },
};

/** JSON Schemas of every class-validator class loaded, with nested classes as `$ref`s. */
export function ruleSchemas(): Record<string, JsonSchema> {
  const schemas = validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage,
    refPointerPrefix: '#/components/schemas/',
    additionalConverters: CONVERTERS,
  }) as Record<string, JsonSchema>;
  for (const schema of Object.values(schemas)) {
    for (const property of Object.values((schema.properties ?? {}) as Record<string, JsonSchema>))
      if (property.type === undefined && ('minimum' in property || 'maximum' in property))
        property.type = 'number';
  }
  return schemas;
}

/**
 * The schemas named in `roots` and every schema they reference, in name order: what a document
 * needs, whatever other classes happen to be loaded.
 */
export function reachableSchemas(
  all: Record<string, JsonSchema>,
  roots: string[],
): Record<string, JsonSchema> {
  const found: Record<string, JsonSchema> = {};
  const pending = [...roots];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const schema = all[name];
    if (!schema || name in found) continue;
    found[name] = schema;
    for (const [, ref] of JSON.stringify(schema).matchAll(/"#\/components\/schemas\/(\w+)"/g))
      pending.push(ref!);
  }
  return Object.fromEntries(Object.entries(found).sort(([a], [b]) => a.localeCompare(b)));
}
