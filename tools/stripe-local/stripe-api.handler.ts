import { Logger } from 'pino';
import { ApiFaults, FaultKind } from './api.faults';
import { FormParams, parseForm } from './form-params.reader';
import { ApiResponse, IdempotencyCache } from './idempotency.cache';
import { RequestLog } from './request.log';
import { matchRoute } from './route.matcher';
import { ApiRoute, stripeApiRoutes } from './stripe-api.routes';
import { RequestOrigin, StripeState } from './stripe-local.state';
import { newId } from './stripe.objects';
import {
  apiError,
  errorResponse,
  rateLimited,
  StripeApiError,
  unrecognizedUrl,
} from './stripe.errors';

export interface ApiRequest {
  method: string;
  path: string;
  /** The query string (GET) or the form-encoded body (POST). */
  form: string;
  authorization: string | null;
  idempotencyKey: string | null;
}

export interface ApiAnswer extends ApiResponse {
  headers: Record<string, string>;
}

/**
 * One Stripe API call, in Stripe's order: injected fault, API key, idempotent replay, the
 * endpoint. Every call is logged; `'hang'` means leave the client waiting.
 */
export class StripeApiHandler {
  private readonly routes: ApiRoute[];
  private readonly idempotency = new IdempotencyCache();

  constructor(
    state: StripeState,
    private readonly faults: ApiFaults,
    private readonly requests: RequestLog,
    private readonly logger: Logger,
  ) {
    this.routes = stripeApiRoutes(state);
  }

  handle(request: ApiRequest): ApiAnswer | 'hang' {
    const { method, path, idempotencyKey } = request;
    const logged = { method, path, idempotencyKey };
    const fault = this.faults.take(path);
    if (fault === 'timeout') {
      this.requests.add({ ...logged, status: null, replayed: false, fault });
      this.logger.warn({ ...logged, fault }, 'api request left hanging');
      return 'hang';
    }
    const requestId = newId('req');
    const { status, body, replayed } = fault
      ? { ...errorResponse(injectedError(fault)), replayed: false }
      : this.call(request, { requestId, idempotencyKey });
    this.requests.add({ ...logged, status, replayed, fault: fault ?? null });
    this.logger.info({ ...logged, status, replayed, fault }, 'api request');
    const headers: Record<string, string> = { 'Request-Id': requestId };
    if (replayed) headers['Idempotent-Replayed'] = 'true';
    return { status, body, headers };
  }

  private call(request: ApiRequest, origin: RequestOrigin): ApiResponse & { replayed: boolean } {
    const authError = authenticate(request.authorization);
    if (authError) return { ...errorResponse(authError), replayed: false };
    const { method, path } = request;
    const params = parseForm(request.form);
    // Stripe ignores idempotency keys on GET: reading has no effect to protect.
    const key = method === 'POST' ? origin.idempotencyKey : null;
    try {
      const replay = key ? this.idempotency.replay(key, method, path, params) : undefined;
      if (replay) return { ...replay, replayed: true };
    } catch (error) {
      return { ...errorResponse(error as StripeApiError), replayed: false };
    }
    const { saved, ...response } = this.route(method, path, params, origin);
    if (key && saved) this.idempotency.remember(key, method, path, params, response);
    return { ...response, replayed: false };
  }

  private route(
    method: string,
    path: string,
    params: FormParams,
    origin: RequestOrigin,
  ): ApiResponse & { saved: boolean } {
    const matched = matchRoute(this.routes, method, path);
    if (!matched)
      return { ...errorResponse(unrecognizedUrl('request', method, path)), saved: false };
    try {
      return {
        status: 200,
        body: matched.route.handle({ params, id: matched.id, origin }),
        saved: true,
      };
    } catch (error) {
      if (error instanceof StripeApiError)
        return { ...errorResponse(error), saved: !error.beforeExecution };
      this.logger.error({ err: error, method, path }, 'api request failed');
      return { ...errorResponse(apiError('stripe-local: internal error')), saved: false };
    }
  }
}

/** The answer of an injected fault that answers (a timeout never does). */
function injectedError(fault: Exclude<FaultKind, 'timeout'>): StripeApiError {
  return fault === 'rate_limit'
    ? rateLimited('stripe-local: injected rate limit')
    : apiError('stripe-local: injected API error');
}

/** Any `sk_test_`/`rk_test_` key is accepted, as Bearer (the SDK) or Basic auth (`curl -u sk_test_x:`). */
function authenticate(authorization: string | null): StripeApiError | undefined {
  if (!authorization)
    return new StripeApiError(401, {
      type: 'invalid_request_error',
      message:
        'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.',
    });
  const [scheme, credentials = ''] = authorization.split(' ');
  const key =
    scheme === 'Basic'
      ? Buffer.from(credentials, 'base64').toString('utf8').split(':')[0]!
      : credentials;
  if (/^(sk|rk)_test_\w+$/.test(key)) return undefined;
  return new StripeApiError(401, {
    type: 'invalid_request_error',
    message: `Invalid API Key provided: ${key.slice(0, 8)}***`,
  });
}
