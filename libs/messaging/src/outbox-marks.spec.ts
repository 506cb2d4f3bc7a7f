import { markEveryMs } from './outbox.publisher';

describe('markEveryMs', () => {
  it.each([
    [5000, 1000],
    [1000, 200],
    [60_000, 1000],
    [0, 50],
    [100, 50],
  ])('with the relay taking rows after %i ms, marks every %i ms', (relayAfterMs, interval) => {
    // Well inside the relay's age, so a published row is marked before the relay would take it.
    expect(markEveryMs(relayAfterMs)).toBe(interval);
  });
});
