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
  for (const { code, message } of errorChain(error)) {
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || SERVER_GOING_AWAY.has(code) || code.startsWith('08'))
    )
      return true;
    if (typeof message === 'string' && BROKEN_CONNECTION.test(message)) return true;
  }
  return false;
}

/** Postgres rolling a transaction back for another's sake: deadlock_detected, serialization_failure. */
const CONFLICT_CODES = new Set(['40P01', '40001']);

/**
 * Whether Postgres rolled the transaction back because it met another one (a deadlock, a
 * serialization failure): nothing of it was applied, and running it again may well succeed.
 */
export function isTransactionConflict(error: unknown): boolean {
  for (const { code } of errorChain(error)) {
    if (typeof code === 'string' && CONFLICT_CODES.has(code)) return true;
  }
  return false;
}

/**
 * Runs `transaction` again while Postgres rolls it back in a conflict with another
 * (`isTransactionConflict`), `attempts` times in all, with a short random pause between so the two
 * are unlikely to meet again. Any other error, or the last conflict, is thrown.
 */
export async function retryingConflicts<T>(
  transaction: () => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= attempts || !isTransactionConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    }
  }
}

/** `error` and what it wraps (TypeORM's `driverError`, a `cause`), outermost first. */
function* errorChain(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    yield current;
    const wrapped = current as { driverError?: unknown; cause?: unknown };
    current = wrapped.driverError ?? wrapped.cause;
  }
}
