import { Pool, PoolClient } from 'pg';

/**
 * The peers' side of the saga's data, in a Postgres database of their own: what the platform's
 * order and inventory apps write to their schemas, minus their saga rows, step logs, outbox and
 * inbox (a peer keeps that in its own journal). Every write is idempotent, since a peer may run a
 * step again after a crash between the write and the record of its result.
 */
export interface OrderLine {
  orderId: string;
  sku: string;
  quantity: number;
}

export const ORDER_TABLES = `
  CREATE TABLE products (sku text PRIMARY KEY, stock integer NOT NULL CHECK (stock >= 0), price_minor integer NOT NULL);
  CREATE TABLE orders (
    id uuid PRIMARY KEY, sku text NOT NULL, quantity integer NOT NULL, status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), completed_at timestamptz
  );
  CREATE INDEX orders_completed_at ON orders (completed_at);
  CREATE TABLE reservations (order_id uuid PRIMARY KEY, sku text NOT NULL, quantity integer NOT NULL, status text NOT NULL);
`;

export function orderPool(connectionString: string): Pool {
  return new Pool({ connectionString, max: Number(process.env.DATABASE_POOL_SIZE ?? 20) });
}

export async function createOrder(pool: Pool, line: OrderLine): Promise<void> {
  await pool.query(
    `INSERT INTO orders (id, sku, quantity, status) VALUES ($1, $2, $3, 'PENDING') ON CONFLICT DO NOTHING`,
    [line.orderId, line.sku, line.quantity],
  );
}

/** All or nothing, never overselling: the stock only goes down when enough is left. */
export async function reserveStock(pool: Pool, line: OrderLine): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const reservation = await client.query(
      `INSERT INTO reservations (order_id, sku, quantity, status) VALUES ($1, $2, $3, 'RESERVED')
       ON CONFLICT DO NOTHING`,
      [line.orderId, line.sku, line.quantity],
    );
    // Reserved by an earlier run of this step.
    if (reservation.rowCount === 0) return true;
    const stock = await client.query(
      `UPDATE products SET stock = stock - $2 WHERE sku = $1 AND stock >= $2`,
      [line.sku, line.quantity],
    );
    if (stock.rowCount === 0) throw new OutOfStock();
    return true;
  }).catch((error: unknown) => {
    if (error instanceof OutOfStock) return false;
    throw error;
  });
}

export async function confirmOrder(pool: Pool, orderId: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `UPDATE orders SET status = 'COMPLETED', completed_at = clock_timestamp()
       WHERE id = $1 AND status <> 'COMPLETED'`,
      [orderId],
    );
    await client.query(`UPDATE reservations SET status = 'COMMITTED' WHERE order_id = $1`, [
      orderId,
    ]);
  });
}

export async function cancelOrder(pool: Pool, orderId: string): Promise<void> {
  await pool.query(`UPDATE orders SET status = 'CANCELLED' WHERE id = $1`, [orderId]);
}

/** The payment stand-in: succeeds at once, as the platform's stand-in participant does. */
export function pay(orderId: string): Promise<{ paymentId: string; status: 'succeeded' }> {
  return Promise.resolve({ paymentId: `pay-${orderId}`, status: 'succeeded' });
}

class OutOfStock extends Error {}

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
