import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEnvelope } from '@lib/contracts';
import { errorMessage } from '@lib/messaging';
import { inSpan } from '@lib/observability';
import { RepeatingTask } from '@lib/platform';
import { InventoryConfig } from '../config';
import { inventoryMetrics, recordPublished } from '../inventory.metrics';
import { Reservation } from './reservation.entity';
import { ReservationsService } from './reservations.service';

/**
 * Returns the stock of reservations whose TTL ran out. Any number of instances may run it: SKIP
 * LOCKED hands each due reservation to one of them, and a cancel or confirm racing it waits for
 * the row and then finds it expired.
 */
@Injectable()
export class ReservationCleaner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReservationCleaner.name);
  private cleaner?: RepeatingTask;

  constructor(
    private readonly dataSource: DataSource,
    private readonly reservations: ReservationsService,
    private readonly config: InventoryConfig,
  ) {}

  /** Started by hand: the interval comes from the config. */
  onApplicationBootstrap(): void {
    this.cleaner = new RepeatingTask(
      () => this.expireDue(),
      this.config.RESERVATION_CLEANER_INTERVAL_MS,
      (error) =>
        this.logger.error({ msg: 'reservation cleaner failed', error: errorMessage(error) }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.cleaner?.stop();
  }

  /** Expires every due reservation, a batch per transaction; returns how many it expired. */
  async expireDue(): Promise<number> {
    let expired = 0;
    for (;;) {
      const count = await this.expireBatch();
      expired += count;
      if (count < this.config.RESERVATION_CLEANER_BATCH) break;
    }
    if (expired > 0) this.logger.log({ msg: 'reservations expired', count: expired });
    inventoryMetrics.reservationsActive.set(
      await this.dataSource.getRepository(Reservation).countBy({ status: 'ACTIVE' }),
    );
    return expired;
  }

  private async expireBatch(): Promise<number> {
    let published: EventEnvelope[] = [];
    const count = await this.dataSource.transaction(async (manager) => {
      const due = await this.reservations.lockExpired(
        manager,
        this.config.RESERVATION_CLEANER_BATCH,
      );
      if (due.length > 0) {
        const releasing = due.map((reservation) => ({ reservation }));
        // A trace of its own, linked to the traces of the orders whose reservations it expires.
        const span = {
          parent: 'new-trace' as const,
          links: due.map((reservation) => reservation.traceContext),
          attributes: { 'inventory.reservations.expired': due.length },
        };
        published = await inSpan('inventory reservations expire', span, () =>
          this.reservations.release(manager, releasing, 'expired'),
        );
      }
      return due.length;
    });
    recordPublished(published);
    return count;
  }
}
