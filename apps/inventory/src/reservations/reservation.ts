import { ReleaseReason } from '@lib/contracts';

/** CANCELLED is a tombstone: the order was cancelled before anything was reserved for it. */
export type ReservationStatus = 'ACTIVE' | 'RELEASED' | 'EXPIRED' | 'COMMITTED' | 'CANCELLED';

export const STATUS_AFTER_RELEASE: Readonly<Record<ReleaseReason, ReservationStatus>> = {
  cancelled: 'RELEASED',
  expired: 'EXPIRED',
};

export interface OrderItem {
  sku: string;
  quantity: number;
}

/** What the catalogue says about one product, read under lock. */
export interface CatalogueStock {
  sku: string;
  available: number;
  priceMinor: number;
  currency: string;
}

export type ReservationDecision =
  | {
      kind: 'reserve';
      lines: { sku: string; quantity: number; unitPriceMinor: number }[];
      totalMinor: number;
    }
  | { kind: 'out-of-stock'; missing: { sku: string; requested: number; available: number }[] };

/**
 * All or nothing: every line at its catalogue price, or every line that cannot be had. An SKU the
 * catalogue does not know, or prices in another currency, has nothing available. Repeated SKUs
 * count as one line; lines come in SKU order.
 */
export function decideReservation(
  items: OrderItem[],
  currency: string,
  catalogue: CatalogueStock[],
): ReservationDecision {
  const bySku = new Map(catalogue.map((stock) => [stock.sku, stock]));
  const quantities = new Map<string, number>();
  for (const { sku, quantity } of items) quantities.set(sku, (quantities.get(sku) ?? 0) + quantity);
  const lines = [...quantities]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sku, quantity]) => {
      const stock = bySku.get(sku);
      const available = stock?.currency === currency ? stock.available : 0;
      return { sku, quantity, available, unitPriceMinor: stock?.priceMinor ?? 0 };
    });
  const missing = lines.filter((line) => line.quantity > line.available);
  if (missing.length > 0) {
    return {
      kind: 'out-of-stock',
      missing: missing.map(({ sku, quantity, available }) => ({
        sku,
        requested: quantity,
        available,
      })),
    };
  }
  return {
    kind: 'reserve',
    lines: lines.map(({ sku, quantity, unitPriceMinor }) => ({ sku, quantity, unitPriceMinor })),
    totalMinor: lines.reduce((total, line) => total + line.quantity * line.unitPriceMinor, 0),
  };
}
