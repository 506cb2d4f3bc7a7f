import {
  EntityManager,
  EntitySubscriberInterface,
  EventSubscriber,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';

interface Deferred {
  /** The transaction depth it was registered at: a rolled-back savepoint drops what it deferred. */
  depth: number;
  run: () => void;
}

/** What a query runner carries for `afterCommit`, in its `data`. */
interface AfterCommitData {
  afterCommit?: Deferred[];
  /** 1 in a transaction, 2 and more in its savepoints. */
  transactionDepth?: number;
}

function dataOf(queryRunner: QueryRunner): AfterCommitData {
  return queryRunner.data;
}

/**
 * Runs `run` once what `runner` wrote is committed: at once when `runner` is not in a transaction
 * (a data source, or a manager whose statement has committed by itself), otherwise when its
 * transaction commits. A rollback drops it.
 */
export function afterCommit(runner: unknown, run: () => void): void {
  const queryRunner = (runner as Partial<EntityManager> | undefined)?.queryRunner;
  if (!queryRunner?.isTransactionActive) return run();
  const data = dataOf(queryRunner);
  (data.afterCommit ??= []).push({ depth: data.transactionDepth ?? 1, run });
}

/** Registered with every app's data source: carries out `afterCommit`'s deferred work. */
@EventSubscriber()
export class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionStart({ queryRunner }: TransactionStartEvent): void {
    const data = dataOf(queryRunner);
    data.transactionDepth = (data.transactionDepth ?? 0) + 1;
  }

  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    const depth = leave(queryRunner);
    // Also called when a savepoint is released: only the outermost commit makes writes visible.
    if (depth > 0) return;
    for (const deferred of take(queryRunner, () => true)) deferred.run();
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    const depth = leave(queryRunner);
    take(queryRunner, (deferred) => deferred.depth > depth);
  }
}

/** Ends a transaction or savepoint; answers the depth the runner is back at. */
function leave(queryRunner: QueryRunner): number {
  const data = dataOf(queryRunner);
  data.transactionDepth = Math.max(0, (data.transactionDepth ?? 1) - 1);
  return data.transactionDepth;
}

/** Removes and returns the deferred work of `queryRunner` that `which` selects. */
function take(queryRunner: QueryRunner, which: (deferred: Deferred) => boolean): Deferred[] {
  const data = dataOf(queryRunner);
  const all = data.afterCommit;
  if (!all) return [];
  const taken = all.filter(which);
  const kept = all.filter((deferred) => !which(deferred));
  data.afterCommit = kept.length > 0 ? kept : undefined;
  return taken;
}
