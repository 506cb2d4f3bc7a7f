import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Min } from 'class-validator';
import { CURRENCY_PATTERN } from '@lib/contracts';
import { BaseConfig } from '@lib/platform';

export class OrderConfig extends BaseConfig {
  override PORT = 3001;

  @IsOptional()
  @Matches(CURRENCY_PATTERN, { message: 'DEFAULT_CURRENCY must be an ISO 4217 code like EUR' })
  DEFAULT_CURRENCY = 'EUR';

  @IsOptional()
  @Type(() => Number)
  @Min(100, { message: 'SAGA_STOCK_TIMEOUT_MS must be at least 100' })
  @IsInt({ message: 'SAGA_STOCK_TIMEOUT_MS must be an integer' })
  SAGA_STOCK_TIMEOUT_MS = 30_000;

  @IsOptional()
  @Type(() => Number)
  @Min(100, { message: 'SAGA_PAYMENT_TIMEOUT_MS must be at least 100' })
  @IsInt({ message: 'SAGA_PAYMENT_TIMEOUT_MS must be an integer' })
  SAGA_PAYMENT_TIMEOUT_MS = 15 * 60_000;

  @IsOptional()
  @Type(() => Number)
  @Min(100, { message: 'SAGA_COMPENSATION_TIMEOUT_MS must be at least 100' })
  @IsInt({ message: 'SAGA_COMPENSATION_TIMEOUT_MS must be an integer' })
  SAGA_COMPENSATION_TIMEOUT_MS = 60_000;

  @IsOptional()
  @Type(() => Number)
  @Min(10, { message: 'SAGA_DEADLINE_SCAN_MS must be at least 10' })
  @IsInt({ message: 'SAGA_DEADLINE_SCAN_MS must be an integer' })
  SAGA_DEADLINE_SCAN_MS = 1000;
}
