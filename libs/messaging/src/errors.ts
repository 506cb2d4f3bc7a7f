/**
 * Thrown by a handler when retrying cannot help (a broken invariant, a rejected request). The
 * message is terminated at once and dead-lettered; any other error is retried with back-off.
 */
export class PermanentEventError extends Error {
  override readonly name = 'PermanentEventError';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/**
 * Why a well-formed event was refused because it does not match the receiver's own record: a
 * forged or corrupted message, never a retryable one. A closed list, so the metric's labels stay
 * bounded.
 */
export type RejectionReason =
  'tenant' | 'amount' | 'currency' | 'payment-intent' | 'lines' | 'saga' | 'unknown-order';

/**
 * A permanent error that is also an operator alert: the transport dead-letters the event with its
 * reason, counts it in `saga_replies_rejected_total{reason}` and logs it at `error` with `context`
 * (the receiver's own ids: the envelope's may be the forged part).
 */
export class RejectedEventError extends PermanentEventError {
  constructor(
    readonly reason: RejectionReason,
    detail: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(`${reason}: ${detail}`);
  }
}
