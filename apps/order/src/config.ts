import { IsIn, IsOptional } from 'class-validator';
import { ISO_4217_CODES } from '@lib/contracts';
import { BaseConfig, IntVariable } from '@lib/platform';

/**
 * What one order process does. `api` serves the order routes only; `worker` consumes the saga's
 * replies, relays the outbox and enforces deadlines (serving /health and /metrics); `all` does both.
 * Split, a burst of saga work no longer queues behind it the HTTP requests of the same event loop.
 */
export const ORDER_ROLES = ['all', 'api', 'worker'] as const;
export type OrderRole = (typeof ORDER_ROLES)[number];

export class OrderConfig extends BaseConfig {
  override PORT = 3001;

  @IsOptional()
  @IsIn(ORDER_ROLES, { message: `ORDER_ROLE must be one of ${ORDER_ROLES.join(', ')}` })
  ORDER_ROLE: OrderRole = 'all';

  /**
   * Messages in flight at once. This app handles the messages of one subject that arrive together
   * as one batch, on one connection (Batcher), so more in flight means bigger batches, not more
   * connections: a saga then costs far fewer statements and commits.
   */
  override NATS_CONCURRENCY = 64;

  @IsOptional()
  @IsIn([...ISO_4217_CODES], {
    message: 'DEFAULT_CURRENCY must be an ISO 4217 code in upper case like EUR',
  })
  DEFAULT_CURRENCY = 'EUR';

  /**
   * How long an order waits for others placed close behind it, to start in one statement with them
   * (OrderStartBatcher); only while orders come closer together than this, so an order placed
   * after a quiet spell waits for nothing. 0: never.
   */
  @IntVariable('ORDER_START_WINDOW_MS', 0, 1000)
  ORDER_START_WINDOW_MS = 20;

  @IntVariable('SAGA_STOCK_TIMEOUT_MS', 100)
  SAGA_STOCK_TIMEOUT_MS = 30_000;

  @IntVariable('SAGA_PAYMENT_TIMEOUT_MS', 100)
  SAGA_PAYMENT_TIMEOUT_MS = 15 * 60_000;

  @IntVariable('SAGA_COMPENSATION_TIMEOUT_MS', 100)
  SAGA_COMPENSATION_TIMEOUT_MS = 60_000;

  @IntVariable('SAGA_DEADLINE_SCAN_MS', 10)
  SAGA_DEADLINE_SCAN_MS = 1000;
}
