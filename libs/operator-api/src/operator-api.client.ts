import { ApiError, ok, orderClient, OrderDocument } from '@lib/client';
import {
  BulkSagaActionBody,
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
  /** The order app, e.g. `http://127.0.0.1:3001`. */
  baseUrl: string;
  /** A bearer token with the `operator` (or `platform-operator`) role. */
  token: string;
}

/** An answer other than 2xx, with the `{ statusCode, code, message }` the app sent. */
export { ApiError as OperatorApiError };

export interface ActionOptions extends SagaActionBody {
  /** Retries under the same key answer the first answer and act once (24 h). */
  idempotencyKey?: string;
}

/** A state as the routes' query parameters name it; the app refuses another with a 400. */
type StateParameter = NonNullable<
  NonNullable<
    OrderDocument.operations['SagaOperationsController_list']['parameters']['query']
  >['state']
>;

/** The filters as query parameters: a state the caller typed is the app's to check. */
const query = <F extends SagaFilter>({ state, ...rest }: F) => ({
  ...rest,
  ...(state !== undefined && { state: state as StateParameter }),
});

const keyed = (idempotencyKey: string | undefined) =>
  idempotencyKey ? { header: { 'Idempotency-Key': idempotencyKey } } : {};

/**
 * The operator API of the order app, for the CLI and the console: one function per route, on the
 * typed client (libs/client: bearer token, Idempotency-Key, retries of 429 and 503, errors as
 * ApiError).
 */
export function operatorApi({ baseUrl, token }: OperatorApiOptions) {
  const order = orderClient({ baseUrl, token });
  return {
    list: (filter: SagaFilter & { cursor?: string; limit?: number } = {}): Promise<SagaPage> =>
      ok(order.GET('/operator/sagas', { params: { query: query(filter) } })),
    counts: (filter: SagaFilter = {}): Promise<SagaCounts> =>
      ok(order.GET('/operator/sagas/counts', { params: { query: query(filter) } })),
    find: (id: string): Promise<SagaSearch> =>
      ok(order.GET('/operator/sagas/find', { params: { query: { id } } })),
    show: (sagaId: string): Promise<SagaDetail> =>
      ok(order.GET('/operator/sagas/{sagaId}', { params: { path: { sagaId } } })),
    act: (
      sagaId: string,
      action: SagaAction,
      { idempotencyKey, ...body }: ActionOptions = {},
    ): Promise<SagaActionResult> =>
      ok(
        order.POST(`/operator/sagas/{sagaId}/${action}`, {
          params: { path: { sagaId }, ...keyed(idempotencyKey) },
          body,
        }),
      ),
    bulk: (
      { filter, ...body }: BulkSagaActionBody,
      idempotencyKey?: string,
    ): Promise<BulkSagaActionResult> =>
      ok(
        order.POST('/operator/sagas/bulk', {
          params: keyed(idempotencyKey),
          body: { ...body, filter: { ...query(filter), state: filter.state as StateParameter } },
        }),
      ),
  };
}

export type OperatorApi = ReturnType<typeof operatorApi>;
