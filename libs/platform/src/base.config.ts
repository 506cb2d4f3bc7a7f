import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, MinLength } from 'class-validator';
import {
  DEFAULT_AUTH_AUDIENCE,
  DEFAULT_AUTH_ISSUER,
  DEV_AUTH_JWT_SECRET,
} from './auth/token-verifier';
import { CheckedWith, IntVariable } from './config-decorators';

/** The database `npm run dev` and the defaults use: the local superuser, no password. */
export const DEV_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/saga';

/**
 * In production: nothing of the development setup. Checked on NODE_ENV (which always has a
 * value) so a variable left at its default is caught too; the first problem is reported.
 */
function productionProblem(config: BaseConfig): string | undefined {
  if (config.NODE_ENV !== 'production') return undefined;
  return verifierProblem(config) ?? databaseUrlProblem(config) ?? natsProblem(config);
}

function verifierProblem(config: BaseConfig): string | undefined {
  if (config.AUTH_JWT_SECRET === DEV_AUTH_JWT_SECRET)
    return 'AUTH_JWT_SECRET is the development secret: set your own, or AUTH_JWKS_URL, in production';
  if (!config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL)
    return 'AUTH_JWKS_URL or AUTH_JWT_SECRET must be set in production';
  return undefined;
}

/** The app's own role, with a password: never the development URL or the `postgres` superuser. */
function databaseUrlProblem(config: BaseConfig): string | undefined {
  if (config.DATABASE_URL === DEV_DATABASE_URL)
    return "DATABASE_URL is the development database: set the app's own role and password in production";
  const url = parsedUrl(config.DATABASE_URL);
  if (!url) return undefined; // reported as malformed by its own check
  if (decodeURIComponent(url.username) === 'postgres')
    return "DATABASE_URL logs in as the superuser postgres: use the app's own role in production";
  if (!url.password) return "DATABASE_URL has no password: set the role's password in production";
  if (url.password === url.username)
    return 'DATABASE_URL has the development password (the role name): set a real one in production';
  return undefined;
}

/**
 * NATS in production is authenticated (credentials in the URL, or the NATS_* credential variables)
 * and encrypted (tls:// URLs, or a CA to verify the server with, which makes the client insist).
 */
function natsProblem(config: BaseConfig): string | undefined {
  const urls = config.NATS_URL.split(',').map(parsedUrl);
  const credentialed =
    urls.every((url) => url?.username) ||
    (config.NATS_USER && config.NATS_PASSWORD) ||
    config.NATS_NKEY_SEED ||
    config.NATS_CREDS;
  if (!credentialed)
    return 'NATS_URL has no credentials: set NATS_USER and NATS_PASSWORD, NATS_NKEY_SEED or NATS_CREDS in production';
  if (!urls.every((url) => url?.protocol === 'tls:') && !config.NATS_TLS_CA)
    return 'NATS_URL is not TLS: use tls:// URLs or set NATS_TLS_CA in production';
  return undefined;
}

function parsedUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** One way to authenticate at most, and a client certificate only with its key. */
function natsConnectionProblem(config: BaseConfig): string | undefined {
  const chosen = [
    config.NATS_USER !== undefined && 'NATS_USER',
    config.NATS_NKEY_SEED !== undefined && 'NATS_NKEY_SEED',
    config.NATS_CREDS !== undefined && 'NATS_CREDS',
  ].filter(Boolean);
  if (chosen.length > 1) return `choose one of ${chosen.join(', ')}`;
  if (config.NATS_PASSWORD !== undefined && config.NATS_USER === undefined)
    return 'NATS_PASSWORD needs NATS_USER';
  if ((config.NATS_TLS_CERT === undefined) !== (config.NATS_TLS_KEY === undefined))
    return 'NATS_TLS_CERT and NATS_TLS_KEY go together';
  return undefined;
}

/** Node refuses a headers timeout longer than the request timeout it is part of. */
function headersTimeoutProblem(config: BaseConfig, value: unknown): string | undefined {
  // A malformed request timeout is reported as such.
  return Number.isInteger(config.HTTP_REQUEST_TIMEOUT_MS) &&
    (value as number) > config.HTTP_REQUEST_TIMEOUT_MS
    ? 'HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS'
    : undefined;
}

/**
 * Variables every app reads. Each app's config extends this with its own. Validation reports the
 * decorator nearest the property first, so the type check sits last.
 */
export class BaseConfig {
  /** `production` refuses development secrets and defaults. */
  @CheckedWith('safeInProduction', productionProblem)
  @IsOptional()
  @IsIn(['development', 'test', 'production'], {
    message: 'NODE_ENV must be development, test or production',
  })
  NODE_ENV = 'development';

  @IntVariable('PORT', 1, 65535)
  PORT: number;

  /** Serves /metrics on a port of its own instead of the app port (production: never public). */
  @CheckedWith<BaseConfig>('metricsPortApart', (config, value) =>
    value === config.PORT ? 'METRICS_PORT must differ from PORT' : undefined,
  )
  @IntVariable('METRICS_PORT', 1, 65535)
  METRICS_PORT?: number = undefined;

  /** HS256 secret of the bearer tokens (development and tests); the development one outside production. */
  @IsOptional()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters' })
  @IsString()
  AUTH_JWT_SECRET?: string = undefined;

  /** The identity provider's JWKS (RS256/ES256); takes precedence over AUTH_JWT_SECRET. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'] },
    { message: 'AUTH_JWKS_URL must be an http(s) URL' },
  )
  AUTH_JWKS_URL?: string = undefined;

  @IsOptional()
  @IsString({ message: 'AUTH_ISSUER must be a string' })
  AUTH_ISSUER = DEFAULT_AUTH_ISSUER;

  @IsOptional()
  @IsString({ message: 'AUTH_AUDIENCE must be a string' })
  AUTH_AUDIENCE = DEFAULT_AUTH_AUDIENCE;

  /** How long an Idempotency-Key answers its first request (24 h). */
  @IntVariable('IDEMPOTENCY_KEY_TTL_MS', 1000)
  IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

  @IsOptional()
  @IsString({ message: 'HTTP_HOST must be a host name or address' })
  HTTP_HOST = '0.0.0.0';

  /** A client has this long to send its request headers (slow clients hold a connection). */
  @CheckedWith('headersWithinRequestTimeout', headersTimeoutProblem)
  @IntVariable('HTTP_HEADERS_TIMEOUT_MS', 1000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** A client has this long to send its whole request, body included. */
  @IntVariable('HTTP_REQUEST_TIMEOUT_MS', 1000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** An idle keep-alive connection is closed after this; above a load balancer's idle timeout. */
  @IntVariable('HTTP_KEEP_ALIVE_TIMEOUT_MS', 1000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;

  /** Connections an instance accepts at once; more are closed as they arrive. */
  @IntVariable('HTTP_MAX_CONNECTIONS', 1)
  HTTP_MAX_CONNECTIONS = 4096;

  /**
   * Proxies in front of the app whose X-Forwarded-For is believed (0: none), so the per-IP
   * rate limit counts clients rather than the load balancer.
   */
  @IntVariable('HTTP_TRUST_PROXY_HOPS', 0, 10)
  HTTP_TRUST_PROXY_HOPS = 0;

  /** The window the rate limits count requests in (ms). */
  @IntVariable('RATE_LIMIT_WINDOW_MS', 100)
  RATE_LIMIT_WINDOW_MS = 1000;

  /** Reads (GET) per window from one address, before authentication; 0: no limit. */
  @IntVariable('RATE_LIMIT_IP_READS', 0)
  RATE_LIMIT_IP_READS = 4000;

  /** Writes (POST, PUT, ...) per window from one address, before authentication; 0: no limit. */
  @IntVariable('RATE_LIMIT_IP_WRITES', 0)
  RATE_LIMIT_IP_WRITES = 2000;

  /** Reads per window by one principal (tenant and `sub` of the token); 0: no limit. */
  @IntVariable('RATE_LIMIT_PRINCIPAL_READS', 0)
  RATE_LIMIT_PRINCIPAL_READS = 2000;

  /** Writes per window by one principal; 0: no limit. */
  @IntVariable('RATE_LIMIT_PRINCIPAL_WRITES', 0)
  RATE_LIMIT_PRINCIPAL_WRITES = 1000;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must look like postgres://user@host:5432/db',
  })
  DATABASE_URL = DEV_DATABASE_URL;

  /**
   * The schema owner's URL, which migrations run with (`--setup-only`, `npm run migrate`, and the
   * boot when set). Outside production DATABASE_URL stands in for it; in production an app without
   * it only checks that its schema is migrated.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_MIGRATION_URL must look like postgres://owner:password@host:5432/db',
  })
  DATABASE_MIGRATION_URL?: string = undefined;

  @IntVariable('DATABASE_POOL_SIZE', 1)
  DATABASE_POOL_SIZE = 10;

  // On NATS_URL, which always has a value: validators of an unset optional variable do not run.
  @CheckedWith('natsConnectionConsistent', natsConnectionProblem)
  @IsOptional()
  @Matches(/^(nats|tls):\/\/[^,\s]+(,(nats|tls):\/\/[^,\s]+)*$/, {
    message: 'NATS_URL must be a comma-separated list of nats://host:port',
  })
  NATS_URL = 'nats://127.0.0.1:4222';

  /** The app's NATS user: NATS_USER with NATS_PASSWORD, or NATS_NKEY_SEED, or NATS_CREDS (a file). */
  @IsOptional()
  @IsString({ message: 'NATS_USER must be a user name' })
  NATS_USER?: string = undefined;

  @IsOptional()
  @IsString({ message: 'NATS_PASSWORD must be a string' })
  NATS_PASSWORD?: string = undefined;

  @IsOptional()
  @Matches(/^SU[A-Z2-7]+$/, { message: 'NATS_NKEY_SEED must be a user nkey seed (SU...)' })
  NATS_NKEY_SEED?: string = undefined;

  @IsOptional()
  @IsString({ message: 'NATS_CREDS must be the path of a .creds file' })
  NATS_CREDS?: string = undefined;

  /** PEM files: the CA of the server's certificate; a client certificate and key for mTLS. */
  @IsOptional()
  @IsString({ message: 'NATS_TLS_CA must be the path of a PEM file' })
  NATS_TLS_CA?: string = undefined;

  @IsOptional()
  @IsString({ message: 'NATS_TLS_CERT must be the path of a PEM file' })
  NATS_TLS_CERT?: string = undefined;

  @IsOptional()
  @IsString({ message: 'NATS_TLS_KEY must be the path of a PEM file' })
  NATS_TLS_KEY?: string = undefined;

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

  @IntVariable('OUTBOX_RELAY_AFTER_MS', 0)
  OUTBOX_RELAY_AFTER_MS = 5000;

  @IntVariable('BATCH_WINDOW_MS', 0, 1000)
  BATCH_WINDOW_MS = 30;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace',
  })
  LOG_LEVEL = 'info';
}
