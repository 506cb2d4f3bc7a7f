import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  OperatorApiError,
  PaymentView,
  SAGA_ACTIONS,
  SagaAction,
  SagaDetail,
  SagaFilter,
} from '@lib/operator-api';
import { parseDurationMs, sagaConversation } from '@lib/operations';
import { InvalidRequestError, Requires } from '@lib/platform';
import { Backbone } from '../backbone/backbone';
import { ConsoleConfig } from '../config';
import { CONSOLE_CONFIG } from '../console-config.token';
import { FormInput, textField, uuidParam } from '../pages/form-input';
import { page, PageContext } from '../pages/layout';
import { Page } from '../pages/page.decorator';
import { ConsoleRequest } from '../session/session';
import { PlatformApis } from './platform-apis';
import { sagaTimeline } from './saga-timeline';
import {
  ACTION_WORDS,
  actionResultContent,
  bulkResultContent,
  confirmActionContent,
  confirmBulkContent,
  ListFilters,
  SagaParts,
  sagaDetailContent,
  sagaListContent,
} from './sagas.pages';

const PAGE_SIZE = 50;
const IDEMPOTENCY_KEY = /^[0-9a-f-]{36}$/;

/**
 * The sagas: counts per state, the filtered list and search (the order app's read model), one
 * saga's timeline (its step log and its events in NATS) with its order, payment and reservation,
 * and the operator actions, each confirmed on a page that names the saga. The order app checks
 * and audits every action as the signed-in operator.
 */
@Controller('sagas')
export class SagasController {
  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    private readonly apis: PlatformApis,
    private readonly backbone: Backbone,
  ) {}

  @Get()
  @Requires('sagas:read')
  @Page()
  async list(@Req() request: ConsoleRequest, @Query() query: FormInput): Promise<string> {
    const api = this.apis.sagas(request.sessionToken!);
    const filters = listFilters(query);
    const search = textField(query, 'q');
    const filter = sagaFilter(filters);
    // Each state's count under the other filters: a count is also the link that filters by it.
    const everyState = { ...filter, state: undefined };
    const [counts, found] = await Promise.all([
      api.counts(everyState),
      search
        ? api.find(search).then(({ items }) => ({ items, nextCursor: null }))
        : api.list({ ...filter, cursor: textField(query, 'cursor', 500), limit: PAGE_SIZE }),
    ]);
    return page(
      context(request),
      'Sagas',
      sagaListContent({
        filters,
        canSeeAllTenants: request.principal!.can('tenants:all'),
        stuckPreset: formatPreset(this.config.CONSOLE_STUCK_AFTER_MS),
        counts,
        sagas: found.items,
        nextCursor: found.nextCursor,
        query: search,
      }),
    );
  }

  @Get('bulk/:action')
  @Requires('sagas:act')
  @Page()
  async confirmBulk(
    @Req() request: ConsoleRequest,
    @Param('action') action: string,
    @Query() query: FormInput,
  ): Promise<string> {
    const act = actionOf(action);
    const filters = listFilters(query);
    const filter = bulkFilter(filters);
    const dryRun = await this.apis
      .sagas(request.sessionToken!)
      .bulk({ action: act, filter, dryRun: true });
    return page(
      context(request),
      `${ACTION_WORDS[act].verb} every ${filter.state} saga of this filter?`,
      confirmBulkContent(context(request), act, filters, filter, dryRun, randomUUID()),
    );
  }

  @Post('bulk/:action')
  @HttpCode(200)
  @Requires('sagas:act')
  @Page()
  async bulk(
    @Req() request: ConsoleRequest,
    @Param('action') action: string,
    @Body() body: FormInput,
  ): Promise<string> {
    const act = actionOf(action);
    const filters = listFilters(body);
    const limit = Number(textField(body, 'limit') ?? '100');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new InvalidRequestError('limit must be 1 to 500');
    const result = await this.apis
      .sagas(request.sessionToken!)
      .bulk(
        { action: act, filter: bulkFilter(filters), limit, note: textField(body, 'note', 500) },
        idempotencyKeyOf(body),
      );
    return page(
      context(request),
      `${ACTION_WORDS[act].verb}: done`,
      bulkResultContent(result, filters),
    );
  }

  @Get(':sagaId')
  @Requires('sagas:read')
  @Page()
  async detail(@Req() request: ConsoleRequest, @Param('sagaId') sagaId: string): Promise<string> {
    const token = request.sessionToken!;
    const saga = await this.apis.sagas(token).show(uuidParam(sagaId, 'the saga id'));
    const [conversation, payment, reservations] = await Promise.all([
      sagaConversation(this.backbone.js, {
        correlationId: saga.correlationId,
        startedAt: new Date(saga.createdAt),
        endedAt: saga.waitingFor ? null : new Date(saga.updatedAt),
      }),
      this.paymentOf(token, saga),
      this.apis
        .inventory(token)
        .reservations(saga.orderId)
        .catch((error: unknown) => ({ unavailable: describe(error) })),
    ]);
    const parts: SagaParts = {
      payment,
      reservations,
      timeline: sagaTimeline(saga.steps, conversation.events),
      truncated: conversation.truncated,
      traceUrl: this.config.CONSOLE_TRACE_URL,
    };
    return page(context(request), `Saga ${saga.sagaId}`, sagaDetailContent(saga, parts));
  }

  @Get(':sagaId/:action')
  @Requires('sagas:act')
  @Page()
  async confirmAction(
    @Req() request: ConsoleRequest,
    @Param('sagaId') sagaId: string,
    @Param('action') action: string,
  ): Promise<string> {
    const act = actionOf(action);
    const saga = await this.apis
      .sagas(request.sessionToken!)
      .show(uuidParam(sagaId, 'the saga id'));
    return page(
      context(request),
      `${ACTION_WORDS[act].verb} saga ${saga.sagaId}?`,
      confirmActionContent(context(request), saga, act, randomUUID()),
    );
  }

  @Post(':sagaId/:action')
  @HttpCode(200)
  @Requires('sagas:act')
  @Page()
  async act(
    @Req() request: ConsoleRequest,
    @Param('sagaId') sagaId: string,
    @Param('action') action: string,
    @Body() body: FormInput,
  ): Promise<string> {
    const act = actionOf(action);
    const result = await this.apis
      .sagas(request.sessionToken!)
      .act(uuidParam(sagaId, 'the saga id'), act, {
        note: textField(body, 'note', 500),
        idempotencyKey: idempotencyKeyOf(body),
      });
    return page(
      context(request),
      `${ACTION_WORDS[act].verb}: done`,
      actionResultContent(result, request.principal!.sub),
    );
  }

  /** The order's payment without its client secret (libs/operator-api drops it). */
  private paymentOf(token: string, saga: SagaDetail): Promise<SagaParts['payment']> {
    return this.apis
      .payments(token)
      .payment(saga.orderId)
      .then(
        (payment: PaymentView) => payment,
        (error: unknown) =>
          error instanceof OperatorApiError && error.status === 404
            ? ('none' as const)
            : { unavailable: describe(error) },
      );
  }
}

function context(request: ConsoleRequest): PageContext {
  return { principal: request.principal, csrfToken: request.csrfToken, section: 'sagas' };
}

function actionOf(action: string): SagaAction {
  if (!(SAGA_ACTIONS as readonly string[]).includes(action))
    throw new InvalidRequestError(`no action ${action}: ${SAGA_ACTIONS.join(', ')}`);
  return action as SagaAction;
}

function listFilters(input: FormInput): ListFilters {
  const stuck = textField(input, 'stuck');
  return {
    state: textField(input, 'state', 40),
    tenant: textField(input, 'tenant', 64),
    reason: textField(input, 'reason'),
    customer: textField(input, 'customer'),
    olderThan: textField(input, 'olderThan', 12),
    stuck: stuck === '1' || stuck === 'on',
  };
}

/** The list's filters as the order app takes them; an age it cannot read is the operator's 400. */
function sagaFilter(filters: ListFilters): SagaFilter {
  let olderThanMs: number | undefined;
  if (filters.olderThan !== undefined) {
    olderThanMs = parseDurationMs(filters.olderThan);
    if (olderThanMs === undefined)
      throw new InvalidRequestError(`"${filters.olderThan}" is no age: write 30s, 5m, 1h or 2d`);
  }
  return {
    ...(filters.state && { state: filters.state }),
    ...(filters.tenant && { tenantId: filters.tenant }),
    ...(filters.reason && { reason: filters.reason }),
    ...(filters.customer && { customerId: filters.customer }),
    ...(olderThanMs !== undefined && { olderThanMs }),
    ...(filters.stuck && { stuck: true }),
  };
}

function bulkFilter(filters: ListFilters): SagaFilter & { state: string } {
  const filter = sagaFilter(filters);
  if (!filter.state) throw new InvalidRequestError('a bulk action needs a state filter');
  return { ...filter, state: filter.state };
}

/** The key the confirmation page drew: a form sent twice (a double click, a reload) acts once. */
function idempotencyKeyOf(body: FormInput): string | undefined {
  const key = textField(body, 'idempotencyKey', 36);
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
    throw new InvalidRequestError('idempotencyKey is malformed');
  return key;
}

/** The stuck preset's age as the filter form writes it (`5m`). */
function formatPreset(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

function describe(error: unknown): string {
  if (error instanceof OperatorApiError) return `${error.status} ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
