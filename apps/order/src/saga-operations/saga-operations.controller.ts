import { Body, Controller, Get, HttpCode, Param, Post, Query, UsePipes } from '@nestjs/common';
import type {
  BulkSagaActionResult,
  SagaActionResult,
  SagaCounts,
  SagaDetail,
  SagaPage,
  SagaSearch,
} from '@lib/operator-api';
import {
  CurrentPrincipal,
  IdempotencyKey,
  IdempotencyScope,
  IdempotentRequests,
  Principal,
  Refuses,
  Requires,
  StrictValidationPipe,
  UUID_PARAM,
} from '@lib/platform';
import { SagaActions } from './saga-actions.service';
import {
  SagaActionNotAllowedError,
  SagaBusyError,
  SagaNotFoundError,
} from './saga-operations.errors';
import {
  BulkSagaActionRequest,
  FindSagaRequest,
  ListSagasRequest,
  ResolveSagaRequest,
  SagaActionRequest,
  SagaFilterRequest,
} from './saga-operations.request';
import { SagaReadModel } from './saga-read-model';

/**
 * The operators' view of the sagas and their actions on them (docs/operator-api.md). Reads and
 * actions see the token's tenant, or every tenant with `tenants:all`; another tenant's saga answers
 * 404. Each action is a transition of the saga's table, audited in its transaction; a retried request
 * under the same Idempotency-Key answers the first answer and acts once.
 */
@Controller('operator/sagas')
@UsePipes(StrictValidationPipe)
export class SagaOperationsController {
  constructor(
    private readonly sagas: SagaReadModel,
    private readonly actions: SagaActions,
    private readonly idempotent: IdempotentRequests,
  ) {}

  /** Newest transition first, a page at a time. */
  @Get()
  @Requires('sagas:read')
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() request: ListSagasRequest,
  ): Promise<SagaPage> {
    return this.sagas.list(principal, request);
  }

  @Get('counts')
  @Requires('sagas:read')
  counts(
    @CurrentPrincipal() principal: Principal,
    @Query() filter: SagaFilterRequest,
  ): Promise<SagaCounts> {
    return this.sagas.counts(principal, filter);
  }

  /** By saga id, order id (= correlation id), customer id or PaymentIntent id. */
  @Get('find')
  @Requires('sagas:read')
  find(
    @CurrentPrincipal() principal: Principal,
    @Query() { id }: FindSagaRequest,
  ): Promise<SagaSearch> {
    return this.sagas.find(principal, id);
  }

  @Get(':sagaId')
  @Requires('sagas:read')
  @Refuses(SagaNotFoundError)
  show(
    @CurrentPrincipal() principal: Principal,
    @Param('sagaId', UUID_PARAM) sagaId: string,
  ): Promise<SagaDetail> {
    return this.sagas.show(principal, sagaId);
  }

  /** At most `limit` sagas of a state in one transaction; `dryRun` lists them and changes nothing. */
  @Post('bulk')
  @HttpCode(200)
  @Requires('sagas:act')
  bulk(
    @CurrentPrincipal() principal: Principal,
    @Body() request: BulkSagaActionRequest,
    @IdempotencyKey() idempotency?: IdempotencyScope,
  ): Promise<BulkSagaActionResult> {
    return this.idempotent.run(idempotency, request, (manager) =>
      this.actions.bulk(manager, principal, request),
    );
  }

  /** Re-emits the command of the step the saga waits on; 202: the participant answers it. */
  @Post(':sagaId/retry')
  @HttpCode(202)
  @Requires('sagas:act')
  @Refuses(SagaNotFoundError, SagaActionNotAllowedError, SagaBusyError)
  retry(
    @CurrentPrincipal() principal: Principal,
    @Param('sagaId', UUID_PARAM) sagaId: string,
    @Body() { note }: SagaActionRequest,
    @IdempotencyKey() idempotency?: IdempotencyScope,
  ): Promise<SagaActionResult> {
    return this.idempotent.run(idempotency, { sagaId, note }, (manager) =>
      this.actions.act(manager, principal, sagaId, 'retry', note),
    );
  }

  /** Forces the compensations from the current state; 202: the participants undo their part. */
  @Post(':sagaId/cancel')
  @HttpCode(202)
  @Requires('sagas:act')
  @Refuses(SagaNotFoundError, SagaActionNotAllowedError, SagaBusyError)
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('sagaId', UUID_PARAM) sagaId: string,
    @Body() { note }: SagaActionRequest,
    @IdempotencyKey() idempotency?: IdempotencyScope,
  ): Promise<SagaActionResult> {
    return this.idempotent.run(idempotency, { sagaId, note }, (manager) =>
      this.actions.act(manager, principal, sagaId, 'cancel', note),
    );
  }

  /** Closes a FAILED saga as RESOLVED once a person has fixed what compensation could not. */
  @Post(':sagaId/resolve')
  @HttpCode(200)
  @Requires('sagas:act')
  @Refuses(SagaNotFoundError, SagaActionNotAllowedError, SagaBusyError)
  resolve(
    @CurrentPrincipal() principal: Principal,
    @Param('sagaId', UUID_PARAM) sagaId: string,
    @Body() { note }: ResolveSagaRequest,
    @IdempotencyKey() idempotency?: IdempotencyScope,
  ): Promise<SagaActionResult> {
    return this.idempotent.run(idempotency, { sagaId, note }, (manager) =>
      this.actions.act(manager, principal, sagaId, 'resolve', note),
    );
  }
}
