/** Exponential back-off with equal jitter: base·2^(n-1), capped, so retries of many messages spread out. */
export function retryDelayMs(
  deliveryCount: number,
  options: { retryBaseMs: number; retryMaxMs: number },
): number {
  const ceiling = Math.min(
    options.retryMaxMs,
    options.retryBaseMs * 2 ** Math.max(0, deliveryCount - 1),
  );
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
