import { STRATEGY_KINDS } from '@lib/contracts';
import { LiveStrategy, recordLive, tradingMetrics } from './trading.metrics';

/** Label names whose values are a short, fixed list: anything else could grow without bound. */
const BOUNDED_LABELS = new Set(['source', 'kind']);

describe('trading metrics', () => {
  const grid = (realisedPnl: number, quantity = 0, lastPrice: number | null = null) =>
    ({ kind: 'grid', quantity, averagePrice: 100, realisedPnl, lastPrice }) as LiveStrategy;

  it('reports the PnL of the live strategies by kind, not per strategy', async () => {
    recordLive([
      grid(5),
      grid(-2, 3, 110),
      { kind: 'ma-crossover', quantity: -1, averagePrice: 50, realisedPnl: 1, lastPrice: 40 },
    ]);
    const { values } = await tradingMetrics.pnlEstimated.get();
    expect(values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { kind: 'grid' }, value: 5 - 2 + 3 * 10 }),
        expect.objectContaining({ labels: { kind: 'ma-crossover' }, value: 1 + 10 }),
      ]),
    );
    expect((await tradingMetrics.strategiesLive.get()).values[0]?.value).toBe(3);
  });

  it('keeps one PnL series per kind however many strategies there are', async () => {
    recordLive(Array.from({ length: 1000 }, (_, i) => grid(i)));
    const { values } = await tradingMetrics.pnlEstimated.get();
    expect(values.map((v) => v.labels.kind).sort()).toEqual([...STRATEGY_KINDS].sort());
    expect(values.find((v) => v.labels.kind === 'ma-crossover')?.value).toBe(0);
  });

  it('labels no metric by strategy, order or tenant', () => {
    const declared = Object.values(tradingMetrics).map((metric) => {
      // prom-client keeps the declared label names on the metric without typing them.
      const { name, labelNames } = metric as unknown as { name: string; labelNames: string[] };
      return { name, unbounded: labelNames.filter((label) => !BOUNDED_LABELS.has(label)) };
    });
    expect(declared.length).toBeGreaterThanOrEqual(5);
    expect(declared.filter((metric) => metric.unbounded.length > 0)).toEqual([]);
  });
});
