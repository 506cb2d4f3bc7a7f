import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKeyReusedError, IdempotencyScope } from './idempotency-key';

export const IDEMPOTENCY_KEY_TTL = Symbol('IDEMPOTENCY_KEY_TTL');

/** The same request under the same key, answered by the one that committed first. */
class KeyTakenMeanwhile extends Error {}

/**
 * Runs a state-changing request at most once per Idempotency-Key. The answer is stored in the
 * action's own transaction, so a request either committed with its answer or left nothing; a retry
 * (or a concurrent twin) answers the stored answer; the key with another request is a 422. A key
 * expires after IDEMPOTENCY_KEY_TTL_MS and may then start a new request.
 */
@Injectable()
export class IdempotentRequests {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(IDEMPOTENCY_KEY_TTL) private readonly ttlMs: number,
  ) {}

  /** The hash of a request, as stored with its key: same key and another hash is a reuse. */
  static hash(request: unknown): string {
    return createHash('sha256').update(JSON.stringify(request)).digest('hex');
  }

  async run<T>(
    scope: IdempotencyScope | undefined,
    request: unknown,
    action: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    if (!scope) return this.dataSource.transaction(action);
    const hash = IdempotentRequests.hash(request);
    const earlier = await this.answered<T>(scope, hash);
    if (earlier) return earlier.response;
    try {
      return await this.dataSource.transaction(async (manager) => {
        const response = await action(manager);
        await this.remember(manager, scope, hash, response);
        return response;
      });
    } catch (error) {
      if (!(error instanceof KeyTakenMeanwhile)) throw error;
      const winner = await this.answered<T>(scope, hash);
      if (!winner) throw new Error('an idempotency key was taken and then lost');
      return winner.response;
    }
  }

  private async answered<T>(
    scope: IdempotencyScope,
    hash: string,
  ): Promise<{ response: T } | undefined> {
    const rows = await this.dataSource.query<{ request_hash: string; response: T }[]>(
      `SELECT request_hash, response FROM ${this.table()}
       WHERE tenant_id = $1 AND principal = $2 AND route = $3 AND key = $4 AND expires_at > now()`,
      [scope.tenantId, scope.principal, scope.route, scope.key],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (row.request_hash !== hash) throw new IdempotencyKeyReusedError();
    return { response: row.response };
  }

  /** Takes the key (or an expired one's place); another live holder makes the transaction fail. */
  private async remember(
    manager: EntityManager,
    scope: IdempotencyScope,
    hash: string,
    response: unknown,
  ): Promise<void> {
    const table = this.table();
    const rows = await manager.query<unknown[]>(
      `INSERT INTO ${table} AS k (tenant_id, principal, route, key, request_hash, response, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7 / 1000.0))
       ON CONFLICT (tenant_id, principal, route, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, response = EXCLUDED.response,
             created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE k.expires_at <= now()
       RETURNING 1`,
      [
        scope.tenantId,
        scope.principal,
        scope.route,
        scope.key,
        hash,
        JSON.stringify(response ?? null),
        this.ttlMs,
      ],
    );
    if (rows.length === 0) throw new KeyTakenMeanwhile();
  }

  private table(): string {
    const schema = (this.dataSource.options as { schema?: string }).schema;
    return `"${schema}".idempotency_keys`;
  }
}
