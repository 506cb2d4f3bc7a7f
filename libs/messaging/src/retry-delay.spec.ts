import { retryDelayMs } from './retry-delay';

describe('retryDelayMs', () => {
  const options = { retryBaseMs: 100, retryMaxMs: 1000 };

  it.each([
    [1, 50, 100],
    [2, 100, 200],
    [3, 200, 400],
    [4, 400, 800],
    [5, 500, 1000],
    [12, 500, 1000],
  ])('delivery %i waits between %i and %i ms', (delivery, min, max) => {
    for (let i = 0; i < 50; i++) {
      const delay = retryDelayMs(delivery, options);
      expect(delay).toBeGreaterThanOrEqual(min);
      expect(delay).toBeLessThanOrEqual(max);
    }
  });
});
