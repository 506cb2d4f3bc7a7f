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

/**
 * Writes that commit together, sent as one statement: each is a sub-statement of a data-modifying
 * CTE, so a transaction that has taken its locks and decided pays one round trip for all of them.
 * No two writes of a set may change the same row.
 */
export class WriteSet {
  private readonly params = new SqlParams();
  private readonly writes: string[] = [];

  add(write: (params: SqlParams) => string): this {
    this.writes.push(write(this.params));
    return this;
  }

  async run(manager: {
    query(sql: string, parameters?: unknown[]): Promise<unknown>;
  }): Promise<void> {
    if (this.writes.length === 0) return;
    const writes = this.writes.map((sql, i) => `write${i} AS (${sql})`).join(',\n');
    await manager.query(`WITH ${writes} SELECT 1`, this.params.values);
  }
}
