import { parseDurationMs } from '@lib/operations';

/** Exit codes the CLI promises to scripts. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, EXIT.notFound);
  }
}

/** `30s`, `5m`, `1h`, `7d` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw new UsageError(`${flag} takes a duration like 30s, 5m, 1h or 7d, not "${text}"`);
  return ms;
}

export function parsePositiveInt(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`${what} must be a positive integer, not "${text}"`);
  return value;
}

/** Prints rows as JSON (for scripts) or as an aligned table (for people). */
export function print(rows: Record<string, unknown>[], json: boolean, empty = '(none)'): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const columns = Object.keys(rows[0]!);
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

/** A progress bar on stderr, drawn only for a person watching a terminal. */
export function progress(total: number, label: string): { tick(): void; done(): void } {
  const visible = process.stderr.isTTY && total > 0;
  let count = 0;
  const draw = () => {
    const width = 30;
    const filled = Math.round((count / total) * width);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total}`,
    );
  };
  return {
    tick: () => {
      count++;
      if (visible && (count % 50 === 0 || count === total)) draw();
    },
    done: () => {
      if (visible) process.stderr.write('\n');
    },
  };
}
