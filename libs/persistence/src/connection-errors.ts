/** A socket to Postgres that could not be opened, or broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Postgres sending clients away: admin_shutdown, crash_shutdown, cannot_connect_now (starting up). */
const SERVER_GOING_AWAY = new Set(['57P01', '57P02', '57P03']);

/** pg's own words for a connection that broke, or could not be made in time. */
const BROKEN_CONNECTION =
  /^(Connection terminated|Connection ended|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/;

/**
 * Whether `error` (raw from pg, or wrapped by TypeORM) says Postgres cannot be reached, rather than
 * that a statement failed: what pauses the consumers until Postgres answers again. Class 08 is
 * SQLSTATE's "connection exception".
 */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || SERVER_GOING_AWAY.has(code) || code.startsWith('08'))
    )
      return true;
    if (typeof message === 'string' && BROKEN_CONNECTION.test(message)) return true;
    const wrapped = current as { driverError?: unknown; cause?: unknown };
    current = wrapped.driverError ?? wrapped.cause;
  }
  return false;
}
