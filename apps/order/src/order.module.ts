import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { OrderConfig } from './config';
import { ORDER_CONFIG } from './order-config.token';
import { OrderSagaDeadlines } from './order-saga/order-saga.deadlines';
import { OrderSagaOrchestrator } from './order-saga/order-saga.orchestrator';
import { SagaEventsConsumer } from './order-saga/saga-events.consumer';
import { SagaReplyBatcher } from './order-saga/saga-reply.batcher';
import { SagaRepository } from './order-saga/saga.repository';
import { SagaActions } from './saga-operations/saga-actions.service';
import { SagaOperationsController } from './saga-operations/saga-operations.controller';
import { SagaReadModel } from './saga-operations/saga-read-model';
import { OrdersController } from './orders/orders.controller';
import { OrderStartBatcher } from './orders/order-start.batcher';
import { OrderRepository } from './orders/order.repository';
import { OrdersService } from './orders/orders.service';
import { orderPersistence } from './persistence';
import { ProductCurrencies } from './product-currencies/product-currencies';
import { ProductPricesConsumer } from './product-currencies/product-prices.consumer';

@Module({})
export class OrderModule {
  /** The parts `config.ORDER_ROLE` asks for; `schema` lets test suites run on a schema of their own. */
  static forRoot(config: OrderConfig, schema = orderPersistence.schema): DynamicModule {
    const api = config.ORDER_ROLE !== 'worker';
    const worker = config.ORDER_ROLE !== 'api';
    return {
      module: OrderModule,
      imports: [
        PlatformModule.forRoot({ service: 'order', config, ...orderPersistence, schema, worker }),
      ],
      controllers: [
        ...(api ? [OrdersController, SagaOperationsController] : []),
        ...(worker ? [SagaEventsConsumer, ProductPricesConsumer] : []),
      ],
      providers: [
        { provide: ORDER_CONFIG, useValue: config },
        SagaRepository,
        OrderSagaOrchestrator,
        ProductCurrencies,
        ...(api
          ? [OrdersService, OrderRepository, OrderStartBatcher, SagaReadModel, SagaActions]
          : []),
        ...(worker ? [SagaReplyBatcher, OrderSagaDeadlines] : []),
      ],
    };
  }
}
