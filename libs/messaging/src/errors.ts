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
