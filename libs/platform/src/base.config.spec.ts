import { PRODUCTION_ENV } from '../../../tests/harness/production-env';
import { BaseConfig, DEV_DATABASE_URL } from './base.config';
import { DEV_AUTH_JWT_SECRET } from './auth/token-verifier';
import { ConfigError, loadConfig } from './load-config';

describe('BaseConfig with NODE_ENV=production', () => {
  /** PRODUCTION_ENV with `changes`; an undefined value unsets the variable. */
  const refusal = (changes: Record<string, string | undefined>) => {
    const env = Object.fromEntries(
      Object.entries({ ...PRODUCTION_ENV, ...changes }).filter(([, value]) => value !== undefined),
    );
    try {
      loadConfig(BaseConfig, env);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return undefined;
  };

  it('accepts production settings', () => {
    expect(refusal({})).toBeUndefined();
  });

  it.each<[string, Record<string, string | undefined>, string]>([
    [
      'the development token secret',
      { AUTH_JWT_SECRET: DEV_AUTH_JWT_SECRET },
      'AUTH_JWT_SECRET is the development secret: set your own, or AUTH_JWKS_URL, in production',
    ],
    [
      'no token verifier',
      { AUTH_JWT_SECRET: undefined },
      'AUTH_JWKS_URL or AUTH_JWT_SECRET must be set in production',
    ],
    [
      'the development database URL',
      { DATABASE_URL: DEV_DATABASE_URL },
      "DATABASE_URL is the development database: set the app's own role and password in production",
    ],
    [
      'the default database URL (unset)',
      { DATABASE_URL: undefined },
      "DATABASE_URL is the development database: set the app's own role and password in production",
    ],
    [
      'the postgres superuser',
      { DATABASE_URL: 'postgres://postgres:s3cret@db.internal:5432/saga' },
      "DATABASE_URL logs in as the superuser postgres: use the app's own role in production",
    ],
    [
      'a database URL without a password',
      { DATABASE_URL: 'postgres://order_app@db.internal:5432/saga' },
      "DATABASE_URL has no password: set the role's password in production",
    ],
    [
      'the development password of a role',
      { DATABASE_URL: 'postgres://order_app:order_app@db.internal:5432/saga' },
      'DATABASE_URL has the development password (the role name): set a real one in production',
    ],
    [
      'NATS without credentials',
      { NATS_USER: undefined, NATS_PASSWORD: undefined },
      'NATS_URL has no credentials: set NATS_USER and NATS_PASSWORD, NATS_NKEY_SEED or NATS_CREDS in production',
    ],
    [
      'NATS with a user but no password',
      { NATS_PASSWORD: undefined },
      'NATS_URL has no credentials: set NATS_USER and NATS_PASSWORD, NATS_NKEY_SEED or NATS_CREDS in production',
    ],
    [
      'NATS without TLS',
      { NATS_URL: 'nats://nats.internal:4222' },
      'NATS_URL is not TLS: use tls:// URLs or set NATS_TLS_CA in production',
    ],
    [
      'one NATS server of several without TLS',
      { NATS_URL: 'tls://nats-0.internal:4222,nats://nats-1.internal:4222' },
      'NATS_URL is not TLS: use tls:// URLs or set NATS_TLS_CA in production',
    ],
  ])('refuses %s, naming the variable', (_case, env, message) => {
    expect(refusal(env)).toBe(`Invalid configuration: ${message}`);
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['an nkey seed', { NATS_USER: undefined, NATS_PASSWORD: undefined, NATS_NKEY_SEED: 'SUA' }],
    ['a credentials file', { NATS_USER: undefined, NATS_PASSWORD: undefined, NATS_CREDS: '/c' }],
    [
      'credentials in the URL',
      { NATS_USER: undefined, NATS_PASSWORD: undefined, NATS_URL: 'tls://order:pw@nats:4222' },
    ],
    [
      'a nats:// URL with a CA to verify the server',
      { NATS_URL: 'nats://n:4222', NATS_TLS_CA: '/ca' },
    ],
  ])('accepts NATS with %s', (_case, env) => {
    expect(refusal(env)).toBeUndefined();
  });

  it('keeps the development defaults outside production', () => {
    expect(loadConfig(BaseConfig, {})).toMatchObject({
      NODE_ENV: 'development',
      DATABASE_URL: DEV_DATABASE_URL,
      DATABASE_MIGRATION_URL: undefined,
    });
  });
});
