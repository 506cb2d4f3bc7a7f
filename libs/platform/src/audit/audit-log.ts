import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { currentLogContext } from '@lib/observability';
import { insertRows, SqlParams, WriteSet, WrittenWith } from '@lib/persistence';
import { Principal } from '../auth/principal';
import { AuditRecord, AuditResult } from './audit-record.entity';

/** One audited action: who did what to which entity, how it ended, and why. */
export interface AuditEntry {
  actor: string;
  tenantId: string | null;
  action: string;
  entityType?: string;
  entityId?: string;
  result: AuditResult;
  /** An error code, or the reason of a denial. */
  reason?: string;
  /** What changed, e.g. `{ before, after }` of a product. */
  details?: unknown;
  requestId?: string;
  correlationId?: string;
}

/**
 * The entry of an action a principal performed, with the ids of the request it is handling. Built
 * where the request is handled, so an entry written later (a batched commit) keeps its request's ids.
 */
export function auditEntry(
  principal: Principal,
  action: string,
  entity: { type: string; id: string },
  fields: Partial<Pick<AuditEntry, 'result' | 'reason' | 'details'>> = {},
): AuditEntry {
  const context = currentLogContext();
  return {
    actor: principal.sub,
    tenantId: principal.tenantId,
    action,
    entityType: entity.type,
    entityId: entity.id,
    result: 'success',
    requestId: context?.requestId,
    correlationId: context?.correlationId,
    ...fields,
  };
}

export interface AuditQuery {
  entity?: string;
  actor?: string;
  since?: Date;
  before?: string;
  limit: number;
}

export interface AuditPage {
  items: (Omit<AuditRecord, 'id'> & { id: number })[];
  /** Pass as `before` for the next (older) page; null on the last one. */
  nextCursor: string | null;
}

/**
 * Writes the audit trail: successes in the transaction of the action they record (with its outbox
 * events, in the same statement where the caller batches its writes), denials on their own.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = dataSource.getMetadata(AuditRecord).tablePath;
  }

  async record(manager: EntityManager, entries: AuditEntry[]): Promise<void> {
    await this.addTo(new WriteSet(), entries).run(manager);
  }

  addTo(writes: WriteSet, entries: AuditEntry[]): WriteSet {
    return entries.length > 0 ? writes.add((params) => this.insert(entries, params)) : writes;
  }

  /** For a denial, which has no transaction of its own: a failure to write it is logged, not thrown. */
  async recordAlone(entry: AuditEntry): Promise<void> {
    try {
      const params = new SqlParams();
      await this.dataSource.query(this.insert([entry], params), params.values);
    } catch (error) {
      this.logger.error({ msg: 'audit record not written', action: entry.action, err: error });
    }
  }

  /** A tenant's records, newest first, filtered; `before` is the cursor of the previous page. */
  async find(tenantId: string, query: AuditQuery): Promise<AuditPage> {
    const builder = this.dataSource
      .getRepository(AuditRecord)
      .createQueryBuilder('a')
      .where('a.tenant_id = :tenantId', { tenantId })
      .orderBy('a.id', 'DESC')
      .limit(query.limit + 1);
    if (query.entity) builder.andWhere('a.entity_id = :entity', { entity: query.entity });
    if (query.actor) builder.andWhere('a.actor = :actor', { actor: query.actor });
    if (query.since) builder.andWhere('a.at >= :since', { since: query.since });
    if (query.before) builder.andWhere('a.id < :before', { before: query.before });
    const rows = await builder.getMany();
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items: items.map(({ id, ...record }) => ({ id: Number(id), ...record })),
      nextCursor: rows.length > query.limit && last ? last.id : null,
    };
  }

  /**
   * The insert of `entries` as SQL, a sub-statement of the caller's; with `writtenWith`, each entry
   * is written only when the change it records was.
   */
  insert(entries: AuditEntry[], params: SqlParams, writtenWith?: WrittenWith): string {
    const column = (value: (entry: AuditEntry) => string | null | undefined, type: string) =>
      params.array(entries, (entry) => value(entry) ?? null, type);
    const columns = [
      column((e) => e.actor, 'text'),
      column((e) => e.tenantId, 'text'),
      column((e) => e.action, 'text'),
      column((e) => e.entityType, 'text'),
      column((e) => e.entityId, 'text'),
      column((e) => e.result, 'text'),
      column((e) => e.reason, 'text'),
      column((e) => e.requestId, 'text'),
      column((e) => e.correlationId, 'text'),
      column((e) => (e.details === undefined ? null : JSON.stringify(e.details)), 'jsonb'),
    ];
    const names = [
      'actor',
      'tenant_id',
      'action',
      'entity_type',
      'entity_id',
      'result',
      'reason',
      'request_id',
      'correlation_id',
      'details',
    ];
    return insertRows(this.table, names, columns, params, writtenWith);
  }
}
