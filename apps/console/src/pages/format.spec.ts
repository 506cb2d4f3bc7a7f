import { money, redacted } from './format';

describe('page formatting', () => {
  it('writes minor units as amounts', () => {
    expect(money(1999, 'EUR')).toBe('19.99 EUR');
    expect(money(5, 'EUR')).toBe('0.05 EUR');
    expect(money(-250, 'USD')).toBe('-2.50 USD');
    expect(money(null, 'EUR')).toBe('—');
  });

  it('redacts secret-sounding keys at any depth, and nothing else', () => {
    expect(
      redacted({
        eventId: 'e1',
        payload: { clientSecret: 'pi_1_secret_2', lines: [{ sku: 'A', apiToken: 't' }] },
        Authorization: 'Bearer x',
      }),
    ).toEqual({
      eventId: 'e1',
      payload: { clientSecret: '[redacted]', lines: [{ sku: 'A', apiToken: '[redacted]' }] },
      Authorization: '[redacted]',
    });
  });
});
