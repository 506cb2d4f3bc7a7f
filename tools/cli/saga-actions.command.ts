import {
  OperatorApi,
  operatorApi,
  OperatorApiError,
  SagaAction,
  SagaFilter,
  SagaSummary,
} from '@lib/operator-api';
import { CliError, EXIT, NotFoundError, print, UsageError } from './cli-io';

export interface OrderApiFlags {
  token?: string;
  'order-url'?: string;
}

/**
 * The order app's operator API, as the CLI calls it: the token of `--token`, else
 * `SAGA_CLI_TOKEN` (out of `ps` and shell history), and the app at `--order-url`, else
 * `ORDER_API_URL`, else the local one.
 */
export function orderApiOf(flags: OrderApiFlags, env = process.env): OperatorApi {
  const token = flags.token ?? env.SAGA_CLI_TOKEN;
  if (!token) {
    throw new UsageError(
      'saga actions need an operator token: SAGA_CLI_TOKEN or --token (npm run -s cli -- token --sub me --roles operator)',
    );
  }
  const baseUrl =
    flags['order-url'] ?? env.ORDER_API_URL ?? `http://127.0.0.1:${env.ORDER_PORT ?? '3001'}`;
  return operatorApi({ baseUrl, token });
}

/** `saga retry|cancel|resolve <orderId|sagaId> [--reason TEXT]`: one action, audited by the app. */
export async function sagaAct(
  api: OperatorApi,
  action: SagaAction,
  id: string,
  note: string | undefined,
  json: boolean,
): Promise<void> {
  const saga = await called(() => sagaNamed(api, id));
  const result = await called(() => api.act(saga.sagaId, action, { note }));
  print(
    [
      {
        saga: result.sagaId,
        order: result.orderId,
        action,
        from: result.from,
        to: result.state,
        event: result.event.subject,
        eventId: result.event.eventId,
      },
    ],
    json,
  );
}

/** `sagas bulk retry|cancel|resolve --state S [--older-than 1h] [--dry-run] [--limit N]`. */
export async function sagasBulk(
  api: OperatorApi,
  action: SagaAction,
  filter: SagaFilter & { state: string },
  options: { dryRun: boolean; limit?: number; note?: string },
  json: boolean,
): Promise<void> {
  const result = await called(() => api.bulk({ action, filter, ...options }));
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const verb = result.dryRun ? `would ${action}` : `${action}:`;
  process.stdout.write(
    `${verb} ${result.dryRun ? result.matched : result.applied} of ${result.matched} saga(s) matched\n`,
  );
  for (const sagaId of result.sagaIds)
    process.stdout.write(
      `  ${sagaId}${result.skipped.includes(sagaId) ? '  (skipped: moved meanwhile)' : ''}\n`,
    );
  if (result.more)
    process.stdout.write(`more match: run it again for the next ${result.sagaIds.length}\n`);
}

/** The one saga an order or saga id names. */
async function sagaNamed(api: OperatorApi, id: string): Promise<SagaSummary> {
  const { items } = await api.find(id);
  const saga = items.find((item) => item.matchedBy === 'sagaId' || item.matchedBy === 'orderId');
  if (!saga) throw new NotFoundError(`no saga with id or order id ${id}`);
  return saga;
}

/** The API's refusals as the CLI's exit codes: 400 bad usage, 404 not found, others failed. */
async function called<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OperatorApiError) {
      const code =
        error.status === 404 ? EXIT.notFound : error.status === 400 ? EXIT.usage : EXIT.failed;
      throw new CliError(`${error.code ?? error.status}: ${error.message}`, code);
    }
    if (error instanceof TypeError)
      throw new CliError(`cannot reach the order app: ${error.message}`);
    throw error;
  }
}
