import {
  BulkSagaActionBody,
  PaymentView,
  ReservationView,
  BulkSagaActionResult,
  SagaAction,
  SagaActionBody,
  SagaActionResult,
  SagaCounts,
  SagaDetail,
  SagaFilter,
  SagaPage,
  SagaSearch,
} from './saga-operations';

export interface OperatorApiOptions {
  /** The app, e.g. `http://127.0.0.1:3001` for the order app. */
  baseUrl: string;
  /** A bearer token with the `operator` (or `platform-operator`) role. */
  token: string;
}

/** An answer other than 2xx, with the `{ statusCode, code, message }` the app sent. */
export class OperatorApiError extends Error {
  override readonly name = 'OperatorApiError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface ActionOptions extends SagaActionBody {
  /** Retries under the same key answer the first answer and act once (24 h). */
  idempotencyKey?: string;
}

/** One route of an app, as its operators call it: bearer token, JSON, errors as OperatorApiError. */
function requester({ baseUrl, token }: OperatorApiOptions) {
  return async function request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = parseJson(text);
    if (parsed === NOT_JSON)
      throw new OperatorApiError(res.status, undefined, `${method} ${path} answered no JSON`);
    if (!res.ok) {
      const error = (parsed ?? {}) as { code?: string; message?: unknown };
      const message = Array.isArray(error.message) ? error.message.join('; ') : error.message;
      throw new OperatorApiError(
        res.status,
        error.code,
        typeof message === 'string' ? message : `${method} ${path} answered ${res.status}`,
      );
    }
    return parsed as T;
  };
}

const NOT_JSON = Symbol('not JSON');

/** A proxy's HTML error page is not the app's answer. */
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return NOT_JSON;
  }
}

const query = (params: Record<string, string | number | boolean | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

/**
 * The operator API of the order app, for the CLI and the console: one function per route, all
 * through one `request` (bearer token, JSON, errors as OperatorApiError).
 */
export function operatorApi(options: OperatorApiOptions) {
  const request = requester(options);
  const saga = (sagaId: string) => `/operator/sagas/${encodeURIComponent(sagaId)}`;

  return {
    list: (filter: SagaFilter & { cursor?: string; limit?: number } = {}) =>
      request<SagaPage>('GET', `/operator/sagas${query({ ...filter })}`),
    counts: (filter: SagaFilter = {}) =>
      request<SagaCounts>('GET', `/operator/sagas/counts${query({ ...filter })}`),
    find: (id: string) => request<SagaSearch>('GET', `/operator/sagas/find${query({ id })}`),
    show: (sagaId: string) => request<SagaDetail>('GET', saga(sagaId)),
    act: (sagaId: string, action: SagaAction, { idempotencyKey, ...body }: ActionOptions = {}) =>
      request<SagaActionResult>('POST', `${saga(sagaId)}/${action}`, body, idempotencyKey),
    bulk: (body: BulkSagaActionBody, idempotencyKey?: string) =>
      request<BulkSagaActionResult>('POST', '/operator/sagas/bulk', body, idempotencyKey),
  };
}

export type OperatorApi = ReturnType<typeof operatorApi>;

/**
 * The payment app's view of an order's payment, as operators read it (`GET /payments/:orderId`).
 * The PaymentIntent's client secret the app also answers (for the storefront) is dropped here, so
 * no operator tool can show it.
 */
export function paymentApi(options: OperatorApiOptions) {
  const request = requester(options);
  return {
    payment: async (orderId: string): Promise<PaymentView> => {
      const payment = await request<PaymentView & { clientSecret?: unknown }>(
        'GET',
        `/payments/${encodeURIComponent(orderId)}`,
      );
      delete payment.clientSecret;
      return payment;
    },
  };
}

/** The inventory app's reservations of an order (`GET /inventory/reservations?orderId=`). */
export function inventoryApi(options: OperatorApiOptions) {
  const request = requester(options);
  return {
    reservations: (orderId: string) =>
      request<ReservationView[]>('GET', `/inventory/reservations${query({ orderId })}`),
  };
}
