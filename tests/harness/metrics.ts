import { Metric } from 'prom-client';

/**
 * A prom-client metric's value for these labels (0 if it has none yet); of a histogram, the series
 * `metricName` names (`<name>_count`, `<name>_sum`, `<name>_bucket`).
 */
export async function metricValue(
  metric: Metric,
  labels: Record<string, string> = {},
  metricName?: string,
): Promise<number> {
  const { values } = await metric.get();
  const value = values.find(
    (v) =>
      // A histogram's values carry the series they belong to; prom-client's type does not say so.
      (metricName === undefined || (v as { metricName?: string }).metricName === metricName) &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return value?.value ?? 0;
}
