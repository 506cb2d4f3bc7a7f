import { createHash } from 'node:crypto';
import { afterCommit } from './after-commit';

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

  /** One column of many rows as a typed array parameter, e.g. for `unnest(...)`. */
  array<T>(rows: readonly T[], value: (row: T) => unknown, type: string): string {
    return `${this.add(rows.map(value))}::${type}[]`;
  }
}

/**
 * For a statement that writes several rows of a kind at once (a sub-statement of a data-modifying
 * CTE): row i is written only when the CTE `cte` returned a row whose `id` is `keys[i]`, e.g. the
 * events of the sagas whose version check passed.
 */
export interface WrittenWith {
  cte: string;
  keys: string[];
}

/**
 * The insert of rows given column by column (`columns[i]` an array parameter for column `names[i]`)
 * into `table`, for a sub-statement of a data-modifying CTE; with `writtenWith`, only the rows whose
 * state change was written.
 */
export function insertRows(
  table: string,
  names: string[],
  columns: string[],
  params: SqlParams,
  writtenWith?: WrittenWith,
): string {
  const insert = `INSERT INTO ${table} (${names.join(', ')})
    SELECT ${names.map((name) => `r.${name}`).join(', ')}`;
  if (!writtenWith) return `${insert} FROM unnest(${columns.join(', ')}) AS r(${names.join(', ')})`;
  return `${insert} FROM unnest(${columns.join(', ')}, ${params.add(writtenWith.keys)}::text[])
      AS r(${names.join(', ')}, key)
    WHERE r.key IN (SELECT id::text FROM ${writtenWith.cte})`;
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
  private readonly committed: (() => void)[] = [];

  add(write: (params: SqlParams) => string): this {
    this.writes.push(write(this.params));
    return this;
  }

  /** Work to do once the writes are committed (see `afterCommit`), e.g. publishing their events. */
  onCommit(run: () => void): this {
    this.committed.push(run);
    return this;
  }

  async run(manager: Queryable): Promise<void> {
    if (this.writes.length === 0) return;
    const writes = this.writes.map((sql, i) => `write${i} AS (${sql})`).join(',\n');
    await queryPrepared(manager, `WITH ${writes} SELECT 1`, this.params.values);
    for (const run of this.committed) afterCommit(manager, run);
  }
}

/**
 * A read that can share one statement with others (`readTogether`): its SELECT, with its parameters
 * taken from `params`, and how its rows read back from JSON (a timestamp comes back as a string).
 */
export interface JsonRead<T> {
  select(params: SqlParams): string;
  fromJson(rows: unknown[]): T;
}

/**
 * Independent reads in one statement, each read's rows aggregated to JSON: one round trip to
 * Postgres (a socket write and a wake-up on either side) instead of one per read, which is most of
 * what a small read costs.
 */
export async function readTogether<T extends unknown[]>(
  runner: Queryable,
  reads: { [K in keyof T]: JsonRead<T[K]> },
): Promise<T> {
  const params = new SqlParams();
  const columns = reads.map(
    (read, i) =>
      `(SELECT coalesce(json_agg(r${i}), '[]') FROM (${read.select(params)}) r${i}) AS r${i}`,
  );
  const [row] = await queryPrepared<Record<string, unknown[]>[]>(
    runner,
    `SELECT ${columns.join(', ')}`,
    params.values,
  );
  return reads.map((read, i) => read.fromJson(row![`r${i}`]!)) as T;
}

/** A data source or entity manager: whatever runs raw SQL. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Runs a hand-written statement as a named prepared statement, so each pooled connection parses
 * and plans it once: for a CTE of several writes that costs more than running it. The name comes
 * from the text, so statements of one shape share it and different texts never clash.
 */
export async function queryPrepared<T = unknown[]>(
  runner: Queryable,
  text: string,
  values: unknown[],
): Promise<T> {
  const name = statementName(text);
  // TypeORM hands the query to pg as it is, and pg takes a { name, text } config in its place.
  return (await runner.query({ name, text } as unknown as string, values)) as T;
}

/** Statement texts come in a few shapes per app; their names are hashed once, not per query. */
const statementNames = new Map<string, string>();
const STATEMENT_NAMES_KEPT = 1_000;

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = createHash('sha1').update(text).digest('base64url');
    if (statementNames.size >= STATEMENT_NAMES_KEPT) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}
