import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/**
 * Variables every app reads. Each app's config extends this with its own. Validation reports the
 * decorator nearest the property first, so the type check sits last.
 */
export class BaseConfig {
  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'PORT must be between 1 and 65535' })
  @Max(65535, { message: 'PORT must be between 1 and 65535' })
  @IsInt({ message: 'PORT must be an integer' })
  PORT: number;

  @IsOptional()
  @IsString({ message: 'HTTP_HOST must be a host name or address' })
  HTTP_HOST = '0.0.0.0';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must look like postgres://user@host:5432/db',
  })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/saga';

  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'DATABASE_POOL_SIZE must be at least 1' })
  @IsInt({ message: 'DATABASE_POOL_SIZE must be an integer' })
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

  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'NATS_MAX_DELIVER must be at least 1' })
  @Max(100, { message: 'NATS_MAX_DELIVER must be at most 100' })
  @IsInt({ message: 'NATS_MAX_DELIVER must be an integer' })
  NATS_MAX_DELIVER = 5;

  @IsOptional()
  @Type(() => Number)
  @Min(1000, { message: 'NATS_ACK_WAIT_MS must be at least 1000' })
  @IsInt({ message: 'NATS_ACK_WAIT_MS must be an integer' })
  NATS_ACK_WAIT_MS = 30_000;

  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'NATS_RETRY_BASE_MS must be at least 1' })
  @IsInt({ message: 'NATS_RETRY_BASE_MS must be an integer' })
  NATS_RETRY_BASE_MS = 500;

  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'NATS_CONCURRENCY must be at least 1' })
  @IsInt({ message: 'NATS_CONCURRENCY must be an integer' })
  NATS_CONCURRENCY = 64;

  @IsOptional()
  @Type(() => Number)
  @Min(10, { message: 'OUTBOX_POLL_MS must be at least 10' })
  @IsInt({ message: 'OUTBOX_POLL_MS must be an integer' })
  OUTBOX_POLL_MS = 1000;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace',
  })
  LOG_LEVEL = 'info';
}
