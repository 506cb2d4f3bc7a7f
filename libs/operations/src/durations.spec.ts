import { formatDuration, parseDurationMs } from './durations';

describe('durations as operators write and read them', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    [' 2m ', 120_000],
  ])('reads %j', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', '5', 'm', '1.5h', '-1m', '5 m', 'forever', '9999999999d'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it.each([
    [850, '850 ms'],
    [12_400, '12 s'],
    [245_000, '4 min 5 s'],
    [300_000, '5 min'],
    [12_000_000, '3 h 20 min'],
    [187_200_000, '2 d 4 h'],
    [-1500, '-1 s'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
