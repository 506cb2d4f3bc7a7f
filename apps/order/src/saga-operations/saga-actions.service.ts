import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { subjectFor } from '@lib/contracts';
import { BulkSagaActionResult, SagaAction, SagaActionResult, SagaFilter } from '@lib/operator-api';
import { AuditEntry, auditEntry, AuditLog, Principal } from '@lib/platform';
import { OrderSagaOrchestrator, SagaOutcome } from '../order-saga/order-saga.orchestrator';
import { SagaRecord } from '../order-saga/order-saga.replies';
import { operatorActionsIn, SagaState, transitionFor } from '../order-saga/order-saga.state';
import { SagaConcurrencyError, SagaRepository } from '../order-saga/saga.repository';
import {
  SagaActionNotAllowedError,
  SagaBusyError,
  SagaNotFoundError,
} from './saga-operations.errors';
import { SagaReadModel } from './saga-read-model';

/** How often an action is tried again on the new state when a reply moved the saga first. */
const ATTEMPTS = 5;

/**
 * Operator actions on sagas. Each one is a trigger of the transition table applied like a reply:
 * version-checked saga row, step, emitted event (outbox), and here the audit record, all in the
 * request's transaction. A reply that moves the saga first fails the version check; the action is
 * then decided again on the new state (and may answer 409 there).
 */
@Injectable()
export class SagaActions {
  constructor(
    private readonly sagas: SagaRepository,
    private readonly orchestrator: OrderSagaOrchestrator,
    private readonly audit: AuditLog,
    private readonly readModel: SagaReadModel,
  ) {}

  async act(
    manager: EntityManager,
    principal: Principal,
    sagaId: string,
    action: SagaAction,
    note?: string,
  ): Promise<SagaActionResult> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const [saga] = await this.load(manager, [sagaId], action);
      const tenant = principal.visibleTenant();
      if (!saga || (tenant !== undefined && saga.tenantId !== tenant))
        throw new SagaNotFoundError(sagaId);
      if (!transitionFor(saga.state, `operator-${action}` as const))
        throw new SagaActionNotAllowedError(
          `saga ${sagaId}`,
          action,
          saga.state,
          operatorActionsIn(saga.state),
        );
      try {
        const outcome = await this.apply(manager, saga, action);
        await this.audit.record(manager, [this.auditOf(principal, action, outcome, note)]);
        return resultOf(action, outcome);
      } catch (error) {
        if (!(error instanceof SagaConcurrencyError)) throw error;
      }
    }
    throw new SagaBusyError(sagaId);
  }

  /**
   * The action on the oldest sagas of the filter's state (at most `limit`), in one transaction:
   * each at the version it was read, so one a reply moved meanwhile is skipped, not acted on. A
   * dry run answers the same selection and writes nothing.
   */
  async bulk(
    manager: EntityManager,
    principal: Principal,
    request: {
      action: SagaAction;
      filter: SagaFilter & { state: SagaState };
      dryRun: boolean;
      limit: number;
      note?: string;
    },
  ): Promise<BulkSagaActionResult> {
    const { action, filter, dryRun, limit, note } = request;
    if (!transitionFor(filter.state, `operator-${action}` as const))
      throw new SagaActionNotAllowedError(
        'filter.state',
        action,
        filter.state,
        operatorActionsIn(filter.state),
      );
    const ids = await this.readModel.oldest(manager, principal, filter, limit + 1);
    const sagaIds = ids.slice(0, limit);
    const answer = { action, dryRun, matched: sagaIds.length, sagaIds, more: ids.length > limit };
    if (dryRun) return { ...answer, applied: 0, skipped: [] };
    const audit: AuditEntry[] = [];
    const skipped: string[] = [];
    for (const saga of await this.load(manager, sagaIds, action)) {
      try {
        const outcome = await this.apply(manager, saga, action);
        audit.push(this.auditOf(principal, action, outcome, note, { bulk: filter }));
      } catch (error) {
        if (!(error instanceof SagaConcurrencyError)) throw error;
        skipped.push(saga.id);
      }
    }
    await this.audit.record(manager, audit);
    return { ...answer, applied: audit.length, skipped };
  }

  /** The sagas with what their action needs: the order's lines to place it again. */
  private load(manager: EntityManager, sagaIds: string[], action: SagaAction) {
    return this.sagas.findByIds(sagaIds, action === 'retry', manager);
  }

  private async apply(
    manager: EntityManager,
    saga: SagaRecord,
    action: SagaAction,
  ): Promise<Extract<SagaOutcome, { applied: true }>> {
    const trigger = `operator-${action}` as const;
    const repeats = transitionFor(saga.state, trigger)?.repeats;
    const causationId = repeats
      ? ((await this.sagas.causationsOf([saga.id], repeats, manager)).get(saga.id) ?? null)
      : undefined;
    const outcome = await this.orchestrator.transition(saga, trigger, { manager, causationId });
    // The table allows the trigger in the state the saga was read in: it always applies.
    if (!outcome.applied) throw new SagaConcurrencyError(`saga ${saga.id} did not move`);
    return outcome;
  }

  private auditOf(
    principal: Principal,
    action: SagaAction,
    { saga, from, events }: Extract<SagaOutcome, { applied: true }>,
    note: string | undefined,
    extra: Record<string, unknown> = {},
  ): AuditEntry {
    const event = events[0];
    return {
      ...auditEntry(
        principal,
        `saga.${action}`,
        { type: 'saga', id: saga.id },
        {
          reason: note,
          details: {
            orderId: saga.orderId,
            from,
            to: saga.state,
            eventId: event?.eventId,
            ...extra,
          },
        },
      ),
      // The saga's tenant reads it in its trail, also when a platform operator acted.
      tenantId: saga.tenantId,
    };
  }
}

function resultOf(
  action: SagaAction,
  { saga, from, events }: Extract<SagaOutcome, { applied: true }>,
): SagaActionResult {
  const [event] = events;
  if (!event) throw new Error(`the ${action} of saga ${saga.id} emitted no event`);
  return {
    sagaId: saga.id,
    orderId: saga.orderId,
    action,
    from,
    state: saga.state,
    version: saga.version,
    event: { eventId: event.eventId, subject: subjectFor(event.eventName, event.eventVersion) },
  };
}
