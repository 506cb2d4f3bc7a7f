import { DataSource } from 'typeorm';
import { STREAMS } from '@lib/contracts';
import { createAppDataSource } from '@lib/persistence';
import { AuditEntry, AuditLog, AuditRecord, schemaOfApp } from '@lib/platform';
import { OperationError } from './operations.errors';

/** The app a durable consumer belongs to: durable names are `<app>__<subject>`. */
export function appOfConsumer(consumer: string): string | undefined {
  const app = consumer.split('__')[0]!;
  return consumer.includes('__') && schemaOfApp(app) ? app : undefined;
}

/** The app that publishes a stream: each app publishes under its own name (`order.>` is the order app's). */
export function appOfStream(stream: string): string | undefined {
  const app = STREAMS.find((s) => s.name === stream)?.subjects[0]?.split('.')[0];
  return app && schemaOfApp(app) ? app : undefined;
}

/** Who performs operations, and why: the same for every record of one command or request. */
export interface OperationsActor {
  /** The operator: the console's token `sub`, the CLI's SAGA_CLI_ACTOR or OS user. */
  actor: string;
  /** Ties the records of one command or request together. */
  requestId: string;
  correlationId?: string;
  /** The operator's note; a failed action records its error instead. */
  reason?: string;
}

export interface AuditedAction {
  action: 'dlq.replay' | 'dlq.purge' | 'stream.replay';
  /** The app whose stream or consumer the action changes: its schema holds the record. */
  app: string;
  entity: { type: string; id: string };
  /** The tenant of the events touched, when they are one tenant's; null for platform-wide actions. */
  tenantId?: string | null;
  details?: unknown;
}

/**
 * The audit trail of the operators' tools (saga-cli, the console): each replay or purge leaves a
 * record, written by the platform's AuditLog, in the `audit_log` table of the app that owns the
 * stream or consumer; nothing changes that could not be recorded. `databaseUrl` logs in as a role
 * that may insert there (`saga_operator` for the CLI, `saga_console` for the console).
 */
export class OperationsAudit {
  private readonly writers = new Map<string, Promise<{ dataSource: DataSource; log: AuditLog }>>();

  constructor(
    private readonly databaseUrl: string,
    private readonly poolSize = 1,
  ) {}

  /** Connects to the audit tables of `apps` before anything is changed: no unaudited action. */
  async ready(apps: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(apps)].map((app) => this.writer(app)));
  }

  /**
   * Runs `act` and records how it ended for each action it performs: `success` with the details
   * `detailsOf` makes of its result, or `failed` with the error, which is rethrown.
   */
  async run<T>(
    by: OperationsActor,
    performs: AuditedAction | AuditedAction[],
    act: () => Promise<T>,
    detailsOf: (result: T, action: AuditedAction) => unknown = (_, action) => action.details,
  ): Promise<T> {
    const actions = Array.isArray(performs) ? performs : [performs];
    await this.ready(actions.map((action) => action.app));
    let result: T;
    try {
      result = await act();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      for (const action of actions) await this.write(by, action, { result: 'failed', reason });
      throw error;
    }
    for (const action of actions)
      await this.write(by, action, {
        result: 'success',
        reason: by.reason,
        details: detailsOf(result, action),
      });
    return result;
  }

  async close(): Promise<void> {
    const writers = await Promise.allSettled(this.writers.values());
    this.writers.clear();
    for (const writer of writers)
      if (writer.status === 'fulfilled') await writer.value.dataSource.destroy();
  }

  private async write(
    by: OperationsActor,
    action: AuditedAction,
    outcome: Pick<AuditEntry, 'result' | 'reason' | 'details'>,
  ): Promise<void> {
    const { dataSource, log } = await this.writer(action.app);
    const entry: AuditEntry = {
      actor: by.actor,
      tenantId: action.tenantId ?? null,
      action: action.action,
      entityType: action.entity.type,
      entityId: action.entity.id,
      requestId: by.requestId,
      correlationId: by.correlationId,
      details: action.details,
      ...outcome,
    };
    try {
      await log.record(dataSource.manager, [entry]);
    } catch (error) {
      throw new OperationError(
        `${action.action} ${action.entity.id} ended ${outcome.result} but its audit record could not be written: ${String(error)}`,
      );
    }
  }

  private writer(app: string): Promise<{ dataSource: DataSource; log: AuditLog }> {
    let writer = this.writers.get(app);
    if (!writer) {
      writer = this.openWriter(app);
      // A failed connection is tried again by the next action (the console outlives an outage).
      writer.catch(() => this.writers.delete(app));
      this.writers.set(app, writer);
    }
    return writer;
  }

  private async openWriter(app: string): Promise<{ dataSource: DataSource; log: AuditLog }> {
    const schema = schemaOfApp(app);
    if (!schema) throw new OperationError(`no app ${app} to audit for`);
    const dataSource = createAppDataSource({
      url: this.databaseUrl,
      schema,
      entities: [AuditRecord],
      migrations: [],
      poolSize: this.poolSize,
    });
    try {
      await dataSource.initialize();
      const log = new AuditLog(dataSource);
      // The app's migrations create the table and grant the role; without both nothing may change.
      const [granted] = await dataSource.query<{ insert: boolean }[]>(
        `SELECT has_table_privilege($1, 'INSERT') AS insert`,
        [dataSource.getMetadata(AuditRecord).tablePath],
      );
      if (!granted?.insert) throw new Error('this role may not insert into it');
      return { dataSource, log };
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy();
      throw new OperationError(
        `cannot write the ${app} app's audit trail (${schema}.audit_log): ${error instanceof Error ? error.message : String(error)}; nothing was changed`,
      );
    }
  }
}
