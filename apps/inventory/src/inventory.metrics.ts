import {
  EventEnvelope,
  InventoryLowStockV1,
  InventoryReleasedV1,
  InventoryReleasedV1Payload,
  InventoryReservedV1,
} from '@lib/contracts';
import { counter, gauge } from '@lib/observability';

export const inventoryMetrics = {
  reservationsActive: gauge({
    name: 'reservations_active',
    help: 'Reservations holding stock, as counted by the last cleaner pass',
  }),
  reservationsExpired: counter({
    name: 'reservations_expired_total',
    help: 'Reservations whose TTL ran out before the order was confirmed',
  }),
  reserved: counter({
    name: 'inventory_reserved_total',
    help: 'Reservations made (every line of an order held)',
  }),
  released: counter({
    name: 'inventory_released_total',
    help: 'Reservations whose stock went back on the shelf, by reason',
    labelNames: ['reason'],
  }),
  lowStockAlerts: counter({
    name: 'stock_low_alerts_total',
    help: 'Products that fell below their low-stock threshold',
  }),
};

/** Counts the events of a committed transaction: one that rolled back published nothing. */
export function recordPublished(events: EventEnvelope[]): void {
  for (const event of events) {
    if (event.eventName === InventoryReservedV1.eventName) inventoryMetrics.reserved.inc();
    if (event.eventName === InventoryLowStockV1.eventName) inventoryMetrics.lowStockAlerts.inc();
    if (event.eventName === InventoryReleasedV1.eventName) {
      const { reason } = event.payload as InventoryReleasedV1Payload;
      inventoryMetrics.released.inc({ reason });
      if (reason === 'expired') inventoryMetrics.reservationsExpired.inc();
    }
  }
}
