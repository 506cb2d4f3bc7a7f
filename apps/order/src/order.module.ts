import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { OrderConfig } from './config';
import { ORDER_CONFIG } from './order-config.token';
import { OrderSagaDeadlines } from './order-saga/order-saga.deadlines';
import { OrderSagaOrchestrator } from './order-saga/order-saga.orchestrator';
import { SagaEventsConsumer } from './order-saga/saga-events.consumer';
import { SagaReplyBatcher } from './order-saga/saga-reply.batcher';
import { SagaRepository } from './order-saga/saga.repository';
import { OrdersController } from './orders/orders.controller';
import { OrderStartBatcher } from './orders/order-start.batcher';
import { OrdersService } from './orders/orders.service';
import { orderPersistence } from './persistence';

@Module({})
export class OrderModule {
  /** `schema` lets test suites run on a schema of their own. */
  static forRoot(config: OrderConfig, schema = orderPersistence.schema): DynamicModule {
    return {
      module: OrderModule,
      imports: [PlatformModule.forRoot({ service: 'order', config, ...orderPersistence, schema })],
      controllers: [OrdersController, SagaEventsConsumer],
      providers: [
        { provide: ORDER_CONFIG, useValue: config },
        OrdersService,
        OrderStartBatcher,
        SagaRepository,
        OrderSagaOrchestrator,
        SagaReplyBatcher,
        OrderSagaDeadlines,
      ],
    };
  }
}
