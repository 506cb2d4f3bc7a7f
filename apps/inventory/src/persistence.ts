import { APP_SCHEMAS, AppPersistence } from '@lib/platform';
import { InventoryTables1764000000000 } from './migrations/1764000000000-inventory-tables';
import { ProductTenancy1764900000000 } from './migrations/1764900000000-product-tenancy';
import { ReservationTraceContext1765200000000 } from './migrations/1765200000000-reservation-trace-context';
import { Product } from './products/product.entity';
import { ReservationLine } from './reservations/reservation-line.entity';
import { Reservation } from './reservations/reservation.entity';

/** The inventory app's schema, entities and migrations: used at boot and by `npm run migrate`. */
export const inventoryPersistence: AppPersistence = {
  schema: APP_SCHEMAS.inventory,
  role: 'inventory_app',
  entities: [Product, Reservation, ReservationLine],
  migrations: [
    InventoryTables1764000000000,
    ProductTenancy1764900000000,
    ReservationTraceContext1765200000000,
  ],
};
