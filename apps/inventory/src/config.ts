import { BaseConfig, IntVariable } from '@lib/platform';

export class InventoryConfig extends BaseConfig {
  override PORT = 3003;

  /**
   * Messages in flight at once. This app handles the messages of one subject that arrive together
   * as one batch, on one connection (Batcher), so more in flight means bigger batches, not more
   * connections: a saga then costs far fewer statements and commits.
   */
  override NATS_CONCURRENCY = 64;

  /** How long a reservation holds its stock before the cleaner returns it. */
  @IntVariable('RESERVATION_TTL_MS', 1)
  RESERVATION_TTL_MS = 15 * 60_000;

  @IntVariable('RESERVATION_CLEANER_INTERVAL_MS', 10)
  RESERVATION_CLEANER_INTERVAL_MS = 60_000;

  /** Reservations expired per transaction. */
  @IntVariable('RESERVATION_CLEANER_BATCH', 1, 10_000)
  RESERVATION_CLEANER_BATCH = 500;
}
