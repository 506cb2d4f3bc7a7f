import { ApiFaults, FAULT_KINDS } from './api.faults';
import { ApiResponse } from './idempotency.cache';
import { RequestLog } from './request.log';
import { matchRoute } from './route.matcher';
import { StripeState } from './stripe-local.state';
import { errorResponse, invalidParam, StripeApiError, unrecognizedUrl } from './stripe.errors';
import { outcomeOfCard } from './test-cards.catalog';
import { ReleaseOrder, WebhookSender } from './webhook.sender';

export interface ControlDeps {
  state: StripeState;
  faults: ApiFaults;
  webhooks: WebhookSender;
  requests: RequestLog;
}

export interface ControlRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: RegExp;
  handle(body: Record<string, unknown>, id: string): unknown;
}

/** Runs the control route for `method path` with a JSON body; errors are Stripe-shaped. */
export async function callControl(
  routes: ControlRoute[],
  method: string,
  path: string,
  raw: string,
): Promise<ApiResponse> {
  const matched = matchRoute(routes, method, path);
  if (!matched) return errorResponse(unrecognizedUrl('control', method, path));
  try {
    const body = await matched.route.handle(jsonObject(raw), matched.id);
    return { status: 200, body };
  } catch (error) {
    if (error instanceof StripeApiError) return errorResponse(error);
    throw error;
  }
}

/** Test controls under `/_control/` (not Stripe's API): faults, webhook modes, logs, storefront confirm. */
export function controlRoutes({ state, faults, webhooks, requests }: ControlDeps): ControlRoute[] {
  return [
    {
      method: 'POST',
      path: /^\/_control\/faults$/,
      handle: (body) => ({
        fault: faults.set(
          oneOf(body, 'kind', FAULT_KINDS),
          body.count === undefined ? null : positiveInteger(body, 'count'),
          body.path === undefined ? null : apiPath(body, 'path'),
        ),
      }),
    },
    {
      method: 'DELETE',
      path: /^\/_control\/faults$/,
      handle: () => {
        faults.clear();
        return { fault: null };
      },
    },
    { method: 'GET', path: /^\/_control\/faults$/, handle: () => ({ fault: faults.current() }) },
    {
      method: 'POST',
      path: /^\/_control\/reset$/,
      handle: () => {
        faults.clear();
        webhooks.reset();
        requests.clear();
        return {};
      },
    },
    { method: 'GET', path: /^\/_control\/ledger$/, handle: () => state.ledger() },
    {
      method: 'GET',
      path: /^\/_control\/requests$/,
      handle: () => ({ requests: requests.list() }),
    },
    {
      method: 'POST',
      path: /^\/_control\/webhooks\/endpoint$/,
      handle: (body) => {
        const url = httpUrl(body, 'url');
        const secret = body.secret === undefined ? undefined : text(body, 'secret');
        webhooks.setEndpoint(url, secret);
        return { url };
      },
    },
    {
      method: 'POST',
      path: /^\/_control\/webhooks\/duplicates$/,
      handle: (body) => {
        const times = positiveInteger(body, 'times');
        webhooks.deliverEachTimes(times);
        return { times };
      },
    },
    {
      method: 'POST',
      path: /^\/_control\/webhooks\/drop$/,
      handle: (body) => {
        const count = body.count === undefined ? 1 : positiveInteger(body, 'count');
        webhooks.dropNext(count);
        return { count };
      },
    },
    {
      method: 'POST',
      path: /^\/_control\/webhooks\/hold$/,
      handle: () => {
        webhooks.hold();
        return { holding: true };
      },
    },
    {
      method: 'GET',
      path: /^\/_control\/webhooks\/held$/,
      handle: () => ({ events: webhooks.held() }),
    },
    {
      method: 'POST',
      path: /^\/_control\/webhooks\/release$/,
      handle: async (body) => {
        const order = releaseOrder(
          body,
          webhooks.held().map((event) => event.id),
        );
        await webhooks.release(order);
        return { released: true };
      },
    },
    {
      method: 'GET',
      path: /^\/_control\/webhooks\/deliveries$/,
      handle: () => ({ deliveries: webhooks.deliveries() }),
    },
    {
      method: 'POST',
      path: /^\/_control\/payment_intents\/([^/]+)\/confirm$/,
      // What a storefront's confirmCardPayment does, answering with the intent either way.
      handle: (body, id) => {
        const card = outcomeOfCard(text(body, 'card'), 'card');
        try {
          return state.confirmPaymentIntent(id, card, { requestId: null, idempotencyKey: null });
        } catch (error) {
          // The API answers a decline with 402; here the intent shows it in last_payment_error.
          if (error instanceof StripeApiError && error.status === 402)
            return state.paymentIntent(id);
          throw error;
        }
      },
    },
  ];
}

function jsonObject(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalidParam('parameter_invalid_json', 'The body is not valid JSON.', 'body');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidParam('parameter_invalid_json', 'The body must be a JSON object.', 'body');
  return value as Record<string, unknown>;
}

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '')
    throw invalidParam('parameter_invalid_string', `${name} must be a non-empty string`, name);
  return value;
}

function httpUrl(body: Record<string, unknown>, name: string): string {
  const value = text(body, name);
  if (!URL.canParse(value) || new URL(value).protocol !== 'http:')
    throw invalidParam('parameter_invalid_string', `${name} must be an http:// URL`, name);
  return value;
}

function apiPath(body: Record<string, unknown>, name: string): string {
  const value = text(body, name);
  if (!/^\/v1(\/[\w*]+)+$/.test(value))
    throw invalidParam(
      'parameter_invalid_string',
      `${name} must be an API path like /v1/refunds or /v1/payment_intents/*/cancel`,
      name,
    );
  return value;
}

function positiveInteger(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalidParam('parameter_invalid_integer', `${name} must be a positive integer`, name);
  return value;
}

function oneOf<T extends string>(
  body: Record<string, unknown>,
  name: string,
  values: readonly T[],
): T {
  const value = body[name];
  if (!(values as readonly unknown[]).includes(value))
    throw invalidParam(
      'parameter_invalid_string',
      `${name} must be one of ${values.join(', ')}`,
      name,
    );
  return value as T;
}

function releaseOrder(body: Record<string, unknown>, heldIds: string[]): ReleaseOrder {
  const order: unknown = body.order ?? 'received';
  if (order === 'received' || order === 'reverse') return order;
  const ids: unknown[] = Array.isArray(order) ? order : [];
  const notHeld = ids.find((id) => typeof id !== 'string' || !heldIds.includes(id));
  if (ids.length === 0 || notHeld !== undefined)
    throw invalidParam(
      'parameter_invalid_string',
      `order must be "received", "reverse" or ids of held events (not held: ${String(notHeld)})`,
      'order',
    );
  return ids as string[];
}
