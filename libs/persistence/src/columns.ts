import { ValueTransformer } from 'typeorm';

/** `bigint` columns come back from pg as strings; money in minor units fits a JS number. */
export const BIGINT_AS_NUMBER: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
