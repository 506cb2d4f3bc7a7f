import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';

export type JsonSchema = Record<string, unknown>;

/** JSON Schemas of every class-validator class loaded, with nested classes as `$ref`s. */
export function ruleSchemas(): Record<string, JsonSchema> {
  return validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage,
    refPointerPrefix: '#/components/schemas/',
  }) as Record<string, JsonSchema>;
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
