/**
 * The parameters of one hand-written statement: `add` keeps a value and returns its placeholder,
 * so the parts of a statement (e.g. the sub-statements of a data-modifying CTE) can be written by
 * different owners and still number their parameters right.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const UNIQUE_VIOLATION = '23505';

/** Whether `error` (raw from pg, or wrapped by TypeORM) is a unique violation, of `constraint` if given. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const cause = (error as { driverError?: unknown }).driverError ?? error;
  const { code, constraint: violated } = cause as { code?: string; constraint?: string };
  return code === UNIQUE_VIOLATION && (constraint === undefined || violated === constraint);
}
