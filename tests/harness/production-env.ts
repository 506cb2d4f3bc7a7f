/**
 * Settings that pass every production check of the config (no development secret, the app's own
 * database role with a password, authenticated NATS over TLS): a spec changes one of them to see
 * it refused. Nothing here is a real secret.
 */
export const PRODUCTION_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: 'production-spec-secret-not-a-real-one-0123456789',
  DATABASE_URL: 'postgres://order_app:s3cret@db.internal:5432/saga',
  NATS_URL: 'tls://nats.internal:4222',
  NATS_USER: 'order',
  NATS_PASSWORD: 'nats-s3cret',
};
