import { CatalogueStock, decideReservation } from './reservation';

const catalogue: CatalogueStock[] = [
  { sku: 'APPLE', available: 5, priceMinor: 120, currency: 'EUR' },
  { sku: 'PEAR', available: 1, priceMinor: 90, currency: 'EUR' },
  { sku: 'YEN-TEA', available: 50, priceMinor: 300, currency: 'JPY' },
];

describe('decideReservation', () => {
  it('reserves every line at its catalogue price, in SKU order', () => {
    expect(
      decideReservation(
        [
          { sku: 'PEAR', quantity: 1 },
          { sku: 'APPLE', quantity: 5 },
        ],
        'EUR',
        catalogue,
      ),
    ).toEqual({
      kind: 'reserve',
      lines: [
        { sku: 'APPLE', quantity: 5, unitPriceMinor: 120 },
        { sku: 'PEAR', quantity: 1, unitPriceMinor: 90 },
      ],
      totalMinor: 690,
    });
  });

  it('lists every line it cannot reserve: short, unknown, or priced in another currency', () => {
    expect(
      decideReservation(
        [
          { sku: 'APPLE', quantity: 5 },
          { sku: 'PEAR', quantity: 2 },
          { sku: 'GHOST', quantity: 1 },
          { sku: 'YEN-TEA', quantity: 1 },
        ],
        'EUR',
        catalogue,
      ),
    ).toEqual({
      kind: 'out-of-stock',
      missing: [
        { sku: 'GHOST', requested: 1, available: 0 },
        { sku: 'PEAR', requested: 2, available: 1 },
        { sku: 'YEN-TEA', requested: 1, available: 0 },
      ],
    });
  });

  it('adds up repeated SKUs before checking them', () => {
    expect(
      decideReservation(
        [
          { sku: 'APPLE', quantity: 3 },
          { sku: 'APPLE', quantity: 3 },
        ],
        'EUR',
        catalogue,
      ),
    ).toEqual({ kind: 'out-of-stock', missing: [{ sku: 'APPLE', requested: 6, available: 5 }] });
  });
});
