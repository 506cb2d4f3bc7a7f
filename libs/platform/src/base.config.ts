import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches } from 'class-validator';
import { IntVariable } from './config-decorators';

/**
 * Variables every app reads. Each app's config extends this with its own. Validation reports the
 * decorator nearest the property first, so the type check sits last.
 */
export class BaseConfig {
  @IntVariable('PORT', 1, 65535)
  PORT: number;

  @IsOptional()
  @IsString({ message: 'HTTP_HOST must be a host name or address' })
  HTTP_HOST = '0.0.0.0';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must look like postgres://user@host:5432/db',
  })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/saga';

  @IntVariable('DATABASE_POOL_SIZE', 1)
  DATABASE_POOL_SIZE = 10;

  @IsOptional()
  @Matches(/^(nats|tls):\/\/[^,\s]+(,(nats|tls):\/\/[^,\s]+)*$/, {
    message: 'NATS_URL must be a comma-separated list of nats://host:port',
  })
  NATS_URL = 'nats://127.0.0.1:4222';

  @IsOptional()
  @Type(() => Number)
  @IsIn([1, 3, 5], { message: 'NATS_STREAM_REPLICAS must be 1, 3 or 5' })
  @IsInt({ message: 'NATS_STREAM_REPLICAS must be an integer' })
  NATS_STREAM_REPLICAS = 1;

  @IntVariable('NATS_MAX_DELIVER', 1, 100)
  NATS_MAX_DELIVER = 5;

  @IntVariable('NATS_ACK_WAIT_MS', 1000)
  NATS_ACK_WAIT_MS = 30_000;

  @IntVariable('NATS_RETRY_BASE_MS', 1)
  NATS_RETRY_BASE_MS = 500;

  @IntVariable('NATS_CONCURRENCY', 1)
  NATS_CONCURRENCY = 8;

  @IntVariable('OUTBOX_POLL_MS', 10)
  OUTBOX_POLL_MS = 1000;

  @IntVariable('BATCH_WINDOW_MS', 0, 1000)
  BATCH_WINDOW_MS = 10;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace',
  })
  LOG_LEVEL = 'info';
}
