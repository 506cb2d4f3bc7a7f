import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * The indexes of the operators' read model (saga-read-model.ts): each list walks one of them
 * backwards from its cursor (`updated_at, id`): per tenant or across tenants in one state (a list of
 * every state merges one walk per state), a reason's, or the sagas in flight (the stuck ones are
 * among them); a count stops at its cap in one of them; a search looks a PaymentIntent up by its
 * own, and a customer's sagas through their orders. `sagas_by_state` replaces `sagas_state` (the
 * same columns, and the id the cursor needs). Few on `sagas`: a transition changes `state`, so it
 * writes into every index of the table. The partial ones cost a transition nothing once its saga is
 * final (in flight) or while nothing went wrong (reason).
 *
 * Built CONCURRENTLY, outside a transaction, so a large table keeps taking writes meanwhile; an
 * index a failed run left invalid is dropped and built again.
 */
const INDEXES: Record<string, [table: 'sagas' | 'orders', columns: string]> = {
  sagas_by_tenant_state: ['sagas', '(tenant_id, state, updated_at, id)'],
  sagas_by_state: ['sagas', '(state, updated_at, id)'],
  sagas_by_payment_intent: ['sagas', '(payment_intent_id) WHERE payment_intent_id IS NOT NULL'],
  // The filters read what they compare from the index itself: no table row per entry.
  sagas_in_flight: [
    'sagas',
    '(updated_at, id) INCLUDE (tenant_id, state, deadline_at) WHERE deadline_at IS NOT NULL',
  ],
  sagas_by_reason: [
    'sagas',
    '(reason, updated_at, id) INCLUDE (tenant_id, state) WHERE reason IS NOT NULL',
  ],
  orders_by_customer: ['orders', '(customer_id)'],
};

export class SagaReadModel1765300000000 implements MigrationInterface {
  name = 'SagaReadModel1765300000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    for (const [name, [table, columns]] of Object.entries(INDEXES)) {
      await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}".${name}`);
      await runner.query(`CREATE INDEX CONCURRENTLY ${name} ON "${schema}".${table} ${columns}`);
    }
    await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}".sagas_state`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(
      `CREATE INDEX CONCURRENTLY sagas_state ON "${schema}".sagas (state, updated_at)`,
    );
    for (const name of Object.keys(INDEXES))
      await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}".${name}`);
  }
}
