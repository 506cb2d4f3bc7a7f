import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, IsNull, Not } from 'typeorm';
import { errorMessage } from '@lib/messaging';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { sagaMetrics } from './order-saga.metrics';
import { OrderSagaOrchestrator } from './order-saga.orchestrator';
import { Saga } from './saga.entity';

const BATCH = 100;

/**
 * Enforces the deadlines stored on the sagas. Being in the database, they survive restarts; each
 * due saga is locked with SKIP LOCKED and its deadline re-checked, so several instances can scan
 * and a deadline that fires after its step completed finds nothing to do.
 */
@Injectable()
export class OrderSagaDeadlines implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrderSagaDeadlines.name);
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly orchestrator: OrderSagaOrchestrator,
    @Inject(ORDER_CONFIG) private readonly config: OrderConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.scanning ??= this.scan()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn({ msg: 'deadline scan failed', error: errorMessage(error) }),
        )
        .finally(() => (this.scanning = undefined));
    }, this.config.SAGA_DEADLINE_SCAN_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.scanning;
  }

  /** Fires every deadline that is due; returns how many sagas moved. */
  async scan(): Promise<number> {
    const due = await this.dataSource
      .getRepository(Saga)
      .createQueryBuilder('saga')
      .select(['saga.id', 'saga.orderId'])
      .where('saga.deadlineAt <= now()')
      .orderBy('saga.deadlineAt')
      .limit(BATCH)
      .getMany();
    let moved = 0;
    for (const { id, orderId } of due) {
      const outcome = await this.dataSource.transaction(async (manager) => {
        const locked = await manager
          .getRepository(Saga)
          .createQueryBuilder('saga')
          .select('saga.id')
          .where('saga.id = :id AND saga.deadlineAt <= now()', { id })
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getOne();
        return locked ? this.orchestrator.apply(manager, orderId, 'deadline') : undefined;
      });
      this.orchestrator.recordCommitted(outcome);
      if (outcome?.applied) moved++;
    }
    // Every saga that is not final waits under a deadline.
    sagaMetrics.inFlight.set(
      await this.dataSource.getRepository(Saga).countBy({ deadlineAt: Not(IsNull()) }),
    );
    return moved;
  }
}
