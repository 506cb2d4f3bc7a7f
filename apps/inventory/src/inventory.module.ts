import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { InventoryConfig } from './config';
import { inventoryPersistence } from './persistence';
import { ProductsController } from './products/products.controller';
import { ProductsService } from './products/products.service';
import { StockLedger } from './products/stock.ledger';
import { ReservationCleaner } from './reservations/reservation-cleaner';
import { ReservationsController } from './reservations/reservations.controller';
import { ReservationsService } from './reservations/reservations.service';
import { StockReservationsConsumer } from './reservations/stock-reservations.consumer';

@Module({})
export class InventoryModule {
  /** `schema` lets test suites run on a schema of their own. */
  static forRoot(config: InventoryConfig, schema = inventoryPersistence.schema): DynamicModule {
    return {
      module: InventoryModule,
      imports: [
        PlatformModule.forRoot({ service: 'inventory', config, ...inventoryPersistence, schema }),
      ],
      controllers: [ProductsController, ReservationsController, StockReservationsConsumer],
      providers: [
        { provide: InventoryConfig, useValue: config },
        StockLedger,
        ProductsService,
        ReservationsService,
        ReservationCleaner,
      ],
    };
  }
}
