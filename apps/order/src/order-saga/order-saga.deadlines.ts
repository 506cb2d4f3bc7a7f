import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { errorMessage } from '@lib/messaging';
import { inSpan } from '@lib/observability';
import { RepeatingTask } from '@lib/platform';
import { OrderConfig } from '../config';
import { ORDER_CONFIG } from '../order-config.token';
import { sagaMetrics } from './order-saga.metrics';
import { OrderSagaOrchestrator } from './order-saga.orchestrator';
import { Saga } from './saga.entity';
import { SagaConcurrencyError, SagaRepository } from './saga.repository';

const BATCH = 100;

/**
 * Enforces the deadlines stored on the sagas. Being in the database, they survive restarts. A due
 * saga is moved at the version it was found with: if a reply (or another instance's scan) moved it
 * meanwhile, the version check refuses the deadline, so one that fires after its step completed
 * does nothing and several instances can scan.
 */
@Injectable()
export class OrderSagaDeadlines implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrderSagaDeadlines.name);
  private scanner?: RepeatingTask;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sagas: SagaRepository,
    private readonly orchestrator: OrderSagaOrchestrator,
    @Inject(ORDER_CONFIG) private readonly config: OrderConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scanner = new RepeatingTask(
      () => this.scan(),
      this.config.SAGA_DEADLINE_SCAN_MS,
      (error) => this.logger.warn({ msg: 'deadline scan failed', error: errorMessage(error) }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scanner?.stop();
  }

  /** Fires every deadline that is due; returns how many sagas moved. */
  async scan(): Promise<number> {
    let moved = 0;
    for (const saga of await this.sagas.findDue(BATCH)) {
      // A trace of its own (the order's may be long over), linked to the one the saga started in.
      const span = {
        parent: 'new-trace' as const,
        links: [saga.traceContext],
        attributes: { 'saga.id': saga.id, 'saga.state': saga.state },
      };
      try {
        const outcome = await inSpan('order-saga deadline', span, () =>
          this.orchestrator.transition(saga, 'deadline'),
        );
        if (outcome.applied) moved++;
      } catch (error) {
        if (!(error instanceof SagaConcurrencyError)) throw error;
      }
    }
    // Every saga that is not final waits under a deadline; a scan moves the due ones within a pass.
    const [{ inFlight, overdue }] = await this.dataSource.query<
      [{ inFlight: number; overdue: number }]
    >(
      `SELECT count(*)::int AS "inFlight",
          count(*) FILTER (WHERE deadline_at < now() - interval '1 minute')::int AS overdue
        FROM ${this.dataSource.getMetadata(Saga).tablePath} WHERE deadline_at IS NOT NULL`,
    );
    sagaMetrics.inFlight.set(inFlight);
    sagaMetrics.overdue.set(overdue);
    return moved;
  }
}
