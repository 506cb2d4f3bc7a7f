import { FormParams } from './form-params.reader';
import { StripeApiError } from './stripe.errors';

export interface ApiResponse {
  status: number;
  body: unknown;
}

/**
 * Stripe's idempotency: the first response under a key is kept and replayed for the same
 * request; the same key on a different request (method, path or parameters) is an error.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, { fingerprint: string; response: ApiResponse }>();

  /** The stored response to replay, or undefined when the key is new. */
  replay(key: string, method: string, path: string, params: FormParams): ApiResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.fingerprint !== fingerprint(method, path, params))
      throw new StripeApiError(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    return entry.response;
  }

  remember(
    key: string,
    method: string,
    path: string,
    params: FormParams,
    response: ApiResponse,
  ): void {
    this.entries.set(key, { fingerprint: fingerprint(method, path, params), response });
  }
}

function fingerprint(method: string, path: string, params: FormParams): string {
  return `${method} ${path} ${JSON.stringify(sorted(params))}`;
}

function sorted(value: FormParams | string): unknown {
  if (typeof value === 'string') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sorted(value[key]!)]),
  );
}
