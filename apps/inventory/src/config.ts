import { BaseConfig, IntVariable } from '@lib/platform';

export class InventoryConfig extends BaseConfig {
  override PORT = 3003;

  /** How long a reservation holds its stock before the cleaner returns it. */
  @IntVariable('RESERVATION_TTL_MS', 1)
  RESERVATION_TTL_MS = 15 * 60_000;

  @IntVariable('RESERVATION_CLEANER_INTERVAL_MS', 10)
  RESERVATION_CLEANER_INTERVAL_MS = 60_000;

  /** Reservations expired per transaction. */
  @IntVariable('RESERVATION_CLEANER_BATCH', 1, 10_000)
  RESERVATION_CLEANER_BATCH = 500;
}
