/** Small helpers the benchmarks share: percentiles, a plain-text table, the load average. */
import { loadavg } from 'node:os';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number | undefined) =>
    typeof value === 'number'
      ? value.toLocaleString('en-US', { maximumFractionDigits: 1 })
      : (value ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`\n${title}\n${line(columns)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

export function perSecond(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A latency table row: p50, p95 and p99 of `values` (in any order). */
export function latencyRow(measure: string, values: number[]): Record<string, string | number> {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    measure,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

/** The 1, 5 and 15 minute load averages, for the figures' context. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/**
 * The outbox relay as production runs it (the defaults): the harness polls five times as often so
 * that tests finish sooner, which a benchmark would count as the cost of every saga.
 */
export const PRODUCTION_OUTBOX_POLLING = { OUTBOX_POLL_MS: '1000', OUTBOX_RELAY_AFTER_MS: '5000' };

/**
 * A bench drives every order from one principal and one address, far past what the rate limits
 * allow a single client: they are turned off, and the bench measures the rest of the edge.
 */
export const RATE_LIMITS_OFF = {
  RATE_LIMIT_IP_READS: '0',
  RATE_LIMIT_IP_WRITES: '0',
  RATE_LIMIT_PRINCIPAL_READS: '0',
  RATE_LIMIT_PRINCIPAL_WRITES: '0',
};
