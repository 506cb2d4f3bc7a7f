import { QueryRunner, ValueTransformer } from 'typeorm';

/** `bigint` columns come back from pg as strings; money in minor units fits a JS number. */
export const BIGINT_AS_NUMBER: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** The schema a migration runs in: the app's own, from its data source. */
export function schemaOf(runner: QueryRunner): string {
  const schema = (runner.connection.options as { schema?: string }).schema;
  if (!schema) throw new Error('migrations need a data source with a schema');
  return schema;
}
