import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { DataSource } from 'typeorm';
import { STREAMS } from '@lib/contracts';
import { createAppDataSource } from '@lib/persistence';
import { AuditEntry, AuditLog, AuditRecord } from '@lib/platform';
import { APPS } from '../../infra/postgres/app-roles';
import { CliError, UsageError } from './cli-io';

/** The app a durable consumer belongs to: durable names are `<app>__<subject>`. */
export function appOfConsumer(consumer: string): string | undefined {
  const app = consumer.split('__')[0]!;
  return consumer.includes('__') && Object.hasOwn(APPS, app) ? app : undefined;
}

/** The app that publishes a stream: each app publishes under its own name (`order.>` is the order app's). */
export function appOfStream(stream: string): string | undefined {
  const app = STREAMS.find((s) => s.name === stream)?.subjects[0]?.split('.')[0];
  return app && Object.hasOwn(APPS, app) ? app : undefined;
}

/** Like `appOfStream`, for a command that may only act on an app's stream. */
export function owningAppOfStream(stream: string): string {
  const app = appOfStream(stream);
  if (!app)
    throw new UsageError(
      `stream ${stream} belongs to no app (${STREAMS.filter((s) => appOfStream(s.name))
        .map((s) => s.name)
        .join(', ')}); dead letters are replayed with dlq replay`,
    );
  return app;
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
 * The audit trail of the operators' CLI: each replay or purge leaves a record, written by the
 * platform's AuditLog, in the `audit_log` table of the app that owns the stream or consumer. The
 * actor is `SAGA_CLI_ACTOR`, else the OS user; `reason` is the operator's `--reason`, or the
 * error of a failed action. Every record of one invocation carries the same request id.
 */
export class CliAudit {
  private readonly writers = new Map<string, Promise<{ dataSource: DataSource; log: AuditLog }>>();
  readonly actor: string;
  private readonly requestId = `cli-${randomUUID()}`;

  constructor(
    private readonly databaseUrl: string,
    private readonly reason: string | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.actor = env.SAGA_CLI_ACTOR || osUser();
  }

  /** Connects to the audit tables of `apps` before anything is changed: no unaudited action. */
  async ready(apps: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(apps)].map((app) => this.writer(app)));
  }

  /**
   * Runs `act` and records how it ended for each action it performs: `success` with the details
   * `detailsOf` makes of its result, or `failed` with the error, which is rethrown.
   */
  async run<T>(
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
      for (const action of actions) await this.write(action, { result: 'failed', reason });
      throw error;
    }
    for (const action of actions)
      await this.write(action, {
        result: 'success',
        reason: this.reason,
        details: detailsOf(result, action),
      });
    return result;
  }

  async close(): Promise<void> {
    const writers = await Promise.allSettled(this.writers.values());
    for (const writer of writers)
      if (writer.status === 'fulfilled') await writer.value.dataSource.destroy();
  }

  private async write(
    action: AuditedAction,
    outcome: Pick<AuditEntry, 'result' | 'reason' | 'details'>,
  ): Promise<void> {
    const { dataSource, log } = await this.writer(action.app);
    const entry: AuditEntry = {
      actor: this.actor,
      tenantId: action.tenantId ?? null,
      action: action.action,
      entityType: action.entity.type,
      entityId: action.entity.id,
      requestId: this.requestId,
      details: action.details,
      ...outcome,
    };
    try {
      await log.record(dataSource.manager, [entry]);
    } catch (error) {
      throw new CliError(
        `${action.action} ${action.entity.id} ended ${outcome.result} but its audit record could not be written: ${String(error)}`,
      );
    }
  }

  private writer(app: string): Promise<{ dataSource: DataSource; log: AuditLog }> {
    let writer = this.writers.get(app);
    if (!writer) {
      writer = this.openWriter(app);
      this.writers.set(app, writer);
    }
    return writer;
  }

  private async openWriter(app: string): Promise<{ dataSource: DataSource; log: AuditLog }> {
    const persistence = APPS[app];
    if (!persistence) throw new CliError(`no app ${app} to audit for`);
    const dataSource = createAppDataSource({
      url: this.databaseUrl,
      schema: persistence.schema,
      entities: [AuditRecord],
      migrations: [],
      poolSize: 1,
    });
    try {
      await dataSource.initialize();
      const log = new AuditLog(dataSource);
      // The app's migrations create the table; without it nothing may change unrecorded.
      await dataSource.query(
        `SELECT 1 FROM ${dataSource.getMetadata(AuditRecord).tablePath} LIMIT 0`,
      );
      return { dataSource, log };
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy();
      throw new CliError(
        `cannot write the ${app} app's audit trail (${persistence.schema}.audit_log at DATABASE_URL): ${error instanceof Error ? error.message : String(error)}; nothing was changed`,
      );
    }
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
