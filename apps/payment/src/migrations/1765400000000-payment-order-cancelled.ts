import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@lib/persistence';

/**
 * When payment learnt that the payment's order was cancelled: from then on its money must go back
 * and its intent be cancelled, whatever Stripe reports later. The reconciliation pass looks for
 * what is not settled yet through the partial index, which holds only those rows.
 *
 * The index is built CONCURRENTLY, outside a transaction, so a large payments table keeps taking
 * writes meanwhile; one a failed run left invalid is dropped and built again.
 */
export class PaymentOrderCancelled1765400000000 implements MigrationInterface {
  name = 'PaymentOrderCancelled1765400000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(
      `ALTER TABLE "${schema}".payments ADD COLUMN IF NOT EXISTS order_cancelled_at timestamptz`,
    );
    await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}".payments_to_reconcile`);
    await runner.query(
      `CREATE INDEX CONCURRENTLY payments_to_reconcile ON "${schema}".payments (order_cancelled_at)
        WHERE order_cancelled_at IS NOT NULL AND status NOT IN ('CANCELLED', 'REFUNDED')`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = schemaOf(runner);
    await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}".payments_to_reconcile`);
    await runner.query(`ALTER TABLE "${schema}".payments DROP COLUMN order_cancelled_at`);
  }
}
