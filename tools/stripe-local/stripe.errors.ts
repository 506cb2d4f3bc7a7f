/** The `error` object of a Stripe error response; its HTTP status picks the SDK's error class. */
export interface StripeErrorBody {
  type:
    'invalid_request_error' | 'card_error' | 'api_error' | 'idempotency_error' | 'rate_limit_error';
  code?: string;
  decline_code?: string;
  message: string;
  param?: string;
  payment_intent?: unknown;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Refused before the endpoint ran: Stripe keeps no idempotent result for it. */
    readonly beforeExecution = false,
  ) {
    super(body.message);
  }
}

/** A parameter refused by validation; the same key may be retried with corrected parameters. */
export function invalidParam(code: string, message: string, param: string): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', code, message, param }, true);
}

export function invalidRequest(code: string, message: string, param?: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code,
    message,
    ...(param ? { param } : {}),
  });
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function unexpectedState(action: string, status: string): StripeApiError {
  return invalidRequest(
    'payment_intent_unexpected_state',
    `You cannot ${action} this PaymentIntent because it has a status of ${status}.`,
  );
}

export function missingPaymentMethod(): StripeApiError {
  return invalidRequest(
    'payment_intent_unexpected_state',
    "You cannot confirm this PaymentIntent because it's missing a payment method. Provide one in the confirm call.",
    'payment_method',
  );
}

/** No route answers `method path`: Stripe's 404 for a URL it does not know. */
export function unrecognizedUrl(
  kind: 'request' | 'control',
  method: string,
  path: string,
): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `Unrecognized ${kind} URL (${method}: ${path}).`,
  });
}

/** A control call without the control token. */
export function controlUnauthorized(): { status: number; body: { error: StripeErrorBody } } {
  return errorResponse(
    new StripeApiError(401, {
      type: 'invalid_request_error',
      code: 'control_token_required',
      message:
        'The control API requires STRIPE_LOCAL_CONTROL_TOKEN as a bearer token (Authorization: Bearer <token>) or in the Stripe-Local-Control-Token header.',
    }),
  );
}

export function apiError(message: string): StripeApiError {
  return new StripeApiError(500, { type: 'api_error', message });
}

/** Stripe's 429: too many requests at once; the SDK raises StripeRateLimitError. */
export function rateLimited(message: string): StripeApiError {
  return new StripeApiError(429, { type: 'rate_limit_error', code: 'rate_limit', message });
}

/** The HTTP answer for an error: its status and Stripe's `{ error }` body. */
export function errorResponse(error: StripeApiError): {
  status: number;
  body: { error: StripeErrorBody };
} {
  return { status: error.status, body: { error: error.body } };
}
