import { DataSource } from 'typeorm';
import { openAppDataSource } from '@lib/persistence';
import { appDataSourceOptions, Principal } from '@lib/platform';
import { freshSchema, TEST_DATABASE_URL } from '../../../../tests/harness/database';
import { SagaReadModel1765300000000 } from '../migrations/1765300000000-saga-read-model';
import { orderPersistence } from '../persistence';
import { SagaReadModel } from './saga-read-model';

const SCHEMA = 'saga_read_model_explain';
const SAGAS = 1_000_000;

/**
 * A million sagas, one a second over the last eleven days, in one statement: in blocks of a
 * thousand, half of them the `default` tenant's and the others spread over 48 tenants; in flight
 * only in the last half hour, where one in a hundred is past its deadline, and one in fifty thousand
 * before it (the stuck ones); otherwise 96 % completed, 3 % cancelled for four reasons, the rest
 * failed or resolved. Each has its order; one in ten has its line, its first step and the audit
 * record of its placing, so the detail's lookups meet large tables too. The ids are sequential (`id(kind)`):
 * random ones would make the seed several times slower, and no query here depends on them.
 */
/** The id of kind `kind` of the i-th saga, in SQL and here. */
const uuidOf = (kind: number, i: number) =>
  `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const id = (kind: number) =>
  `(lpad(to_hex(${kind}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid`;
const SEED = `
  WITH g AS MATERIALIZED (
    SELECT i, ${id(1)} AS saga_id, ${id(2)} AS order_id,
      CASE WHEN (i / 1000) % 2 = 0 THEN 'default' ELSE 't-' || (i / 1000) % 97 END AS tenant_id,
      'c-' || (i % 50000) AS customer_id,
      now() - make_interval(secs => i) AS updated_at,
      CASE WHEN i <= 2000 OR i % 50000 = 7 THEN
          (ARRAY['PAYMENT_PENDING', 'PAYMENT_PENDING', 'PAYMENT_PENDING', 'STARTED', 'STOCK_RESERVED',
            'COMPENSATING', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'CANCELLED'])[i % 10 + 1]
        WHEN i % 1000 < 960 THEN 'COMPLETED' WHEN i % 1000 < 990 THEN 'CANCELLED'
        WHEN i % 1000 < 997 THEN 'FAILED' ELSE 'RESOLVED' END AS state
    FROM generate_series(1, ${SAGAS}) AS i),
  orders AS (INSERT INTO ${SCHEMA}.orders (id, customer_id, currency, tenant_id, total_minor, request_hash, created_at)
    SELECT order_id, customer_id, 'EUR', tenant_id, 2500, 'seed', updated_at - interval '1 minute' FROM g),
  sagas AS (INSERT INTO ${SCHEMA}.sagas (id, order_id, customer_id, state, version, deadline_at,
      reservation_id, amount_minor, currency, payment_intent_id, correlation_id, tenant_id, reason,
      created_at, updated_at)
    SELECT saga_id, order_id, customer_id, state, 3,
      CASE WHEN state IN ('COMPLETED', 'CANCELLED', 'FAILED', 'RESOLVED') THEN NULL
        WHEN i % 100 = 3 OR i > 2000 THEN now() - interval '1 minute'
        ELSE now() + interval '10 minutes' END,
      CASE WHEN state = 'STARTED' THEN NULL ELSE ${id(3)} END, 2500, 'EUR',
      CASE WHEN state = 'STARTED' THEN NULL ELSE 'pi_' || i END, order_id::text, tenant_id,
      CASE WHEN state IN ('CANCELLED', 'COMPENSATING')
          THEN (ARRAY['payment-timeout', 'customer', 'out-of-stock', 'payment-failed'])[i % 4 + 1]
        WHEN state IN ('FAILED', 'RESOLVED') THEN 'stock release not confirmed in time' END,
      updated_at - interval '1 minute', updated_at FROM g),
  lines AS (INSERT INTO ${SCHEMA}.order_lines (order_id, sku, quantity, unit_price_minor)
    SELECT order_id, 'SKU-' || i % 100, 1, 2500 FROM g WHERE i % 10 = 0),
  steps AS (INSERT INTO ${SCHEMA}.saga_steps (saga_id, from_state, to_state, trigger, event_id, at)
    SELECT saga_id, NULL, 'STARTED', 'order.created.v1', ${id(4)}, updated_at FROM g WHERE i % 10 = 0)
  INSERT INTO ${SCHEMA}.audit_log (at, actor, tenant_id, action, entity_type, entity_id, result)
    SELECT updated_at, customer_id, tenant_id, 'order.place', 'order', order_id::text, 'success'
      FROM g WHERE i % 10 = 0`;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/** The operators' queries at a million sagas: each one reads an index, none scans a table. */
describe('the saga read model at a million sagas', () => {
  let db: DataSource;
  let readModel: SagaReadModel;
  let issued: { sql: string; params: unknown[] }[] = [];
  let explain: DataSource['query'];

  const operator = new Principal('op-1', ['operator'], 'default');
  const platformOperator = new Principal('op-2', ['platform-operator'], 'default');

  const open = (migrations = orderPersistence.migrations) =>
    openAppDataSource(
      appDataSourceOptions(TEST_DATABASE_URL, { ...orderPersistence, schema: SCHEMA, migrations }),
    );

  beforeAll(async () => {
    await freshSchema(SCHEMA);
    // Seeded before the read model's migration, which then builds its indexes on a full table (as
    // it would in production), faster than a million inserts would maintain them.
    const before = await open(
      orderPersistence.migrations.filter((m) => m !== SagaReadModel1765300000000),
    );
    await before.transaction(async (manager) => {
      // The seed satisfies its foreign keys by construction: checking them would double its time.
      await manager.query(`SET LOCAL session_replication_role = replica`);
      await manager.query(SEED);
    });
    await before.destroy();
    db = await open();
    for (const table of ['orders', 'order_lines', 'sagas', 'saga_steps', 'audit_log'])
      await db.query(`VACUUM ANALYZE ${SCHEMA}.${table}`);
    readModel = new SagaReadModel(db);
    // What the read model sends, to be explained as sent.
    explain = db.query.bind(db);
    jest.spyOn(db, 'query').mockImplementation((sql: string, params?: unknown[]) => {
      issued.push({ sql, params: params ?? [] });
      return explain(sql, params);
    });
  }, 900_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await db?.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
    await db?.destroy();
  });

  /** The plans (with the buffers they read) of the statements `read` issues. */
  async function plansOf(read: () => Promise<unknown>): Promise<PlanNode[]> {
    issued = [];
    await read();
    const statements = issued;
    const plans: PlanNode[] = [];
    for (const { sql, params } of statements) {
      const [row] = await explain<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
        params,
      );
      plans.push(row!['QUERY PLAN'][0].Plan);
    }
    return plans;
  }

  /** `read` scans no table, uses one of `oneOf` (when given), and touches fewer than `maxBlocks`. */
  async function expectIndexed(
    read: () => Promise<unknown>,
    oneOf: readonly string[],
    maxBlocks: number,
  ) {
    const plans = await plansOf(read);
    const nodes = plans.flatMap(nodesOf);
    expect(
      nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']),
    ).toEqual([]);
    const used = nodes.flatMap((n) => n['Index Name'] ?? []);
    if (oneOf.length > 0) {
      const usesOneOf = used.some((index) => oneOf.includes(index));
      expect({ used, usesOneOf }).toEqual({ used, usesOneOf: true });
    }
    // Bounded work: the blocks the statement touched, not the table's.
    const blocks = plans.reduce(
      (sum, p) => sum + p['Shared Hit Blocks'] + p['Shared Read Blocks'],
      0,
    );
    expect(blocks).toBeLessThan(maxBlocks);
  }

  const page = { limit: 50 };

  it.each([
    ["an operator's tenant, newest first", operator, {}, ['sagas_by_tenant_state']],
    ["an operator's tenant in one state", operator, { state: 'FAILED' }, ['sagas_by_tenant_state']],
    ['every tenant, newest first', platformOperator, {}, ['sagas_by_state']],
    [
      'every tenant in one state',
      platformOperator,
      { state: 'PAYMENT_PENDING' },
      ['sagas_by_state'],
    ],
    ['one other tenant', platformOperator, { tenantId: 't-5' }, ['sagas_by_tenant_state']],
    [
      'a state and an age',
      platformOperator,
      { state: 'CANCELLED', olderThanMs: 86_400_000 },
      ['sagas_by_state'],
    ],
    [
      'a state and a reason',
      operator,
      { state: 'CANCELLED', reason: 'payment-timeout' },
      ['sagas_by_tenant_state', 'sagas_by_reason'],
    ],
    ["a customer's", platformOperator, { customerId: 'c-42' }, ['orders_by_customer']],
    ['the stuck ones', operator, { stuck: true }, ['sagas_in_flight', 'sagas_due']],
    [
      'the stuck ones of every tenant, or older than an hour',
      platformOperator,
      { stuck: true, olderThanMs: 3_600_000 },
      ['sagas_in_flight', 'sagas_due'],
    ],
    ['a reason of every tenant', platformOperator, { reason: 'customer' }, ['sagas_by_reason']],
  ] as const)('lists %s by an index', async (_what, principal, filter, indexes) => {
    await expectIndexed(
      () => readModel.list(principal, { ...filter, ...page }),
      [...indexes],
      2000,
    );
  });

  it('reads the next page from its cursor by the same index', async () => {
    const first = await readModel.list(operator, { state: 'COMPLETED', ...page });
    expect(first.nextCursor).not.toBeNull();
    await expectIndexed(
      () => readModel.list(operator, { state: 'COMPLETED', cursor: first.nextCursor!, ...page }),
      [],
      2000,
    );
  });

  it.each([
    ["an operator's tenant", operator, {}, ['sagas_by_tenant_state']],
    ['every tenant', platformOperator, {}, ['sagas_by_state']],
    [
      'every tenant, older than a day',
      platformOperator,
      { olderThanMs: 86_400_000 },
      ['sagas_by_state'],
    ],
    ['a reason', operator, { reason: 'payment-timeout' }, ['sagas_by_reason']],
  ] as const)(
    'counts the states of %s, stopping at the cap',
    async (_what, principal, filter, indexes) => {
      await expectIndexed(() => readModel.counts(principal, filter), [...indexes], 2000);
    },
  );

  it('counts exactly below the cap and says which states reach it', async () => {
    const counts = await readModel.counts(platformOperator, {});
    const [row] = await db.query<{ failed: number }[]>(
      `SELECT count(*)::int AS failed FROM ${SCHEMA}.sagas WHERE state = 'FAILED'`,
    );
    expect(counts.states.FAILED).toBe(row!.failed);
    expect(counts.capped).toEqual(['COMPLETED', 'CANCELLED']);
    expect(counts.states.COMPLETED).toBe(counts.cap);
  });

  it('selects the oldest of a state for a bulk action by an index', async () => {
    await expectIndexed(
      () => readModel.oldest(db, operator, { state: 'FAILED', olderThanMs: 3_600_000 }, 101),
      ['sagas_by_tenant_state'],
      2000,
    );
  });

  it.each([
    ['a saga id', uuidOf(1, 42000), 'sagaId'],
    ['an order id', uuidOf(2, 42000), 'orderId'],
    ['a PaymentIntent id', 'pi_42000', 'paymentIntentId'],
    ['a customer id', 'c-42000', 'customerId'],
  ])('finds by %s through the indexes', async (_what, id, matchedBy) => {
    const found = await readModel.find(platformOperator, id);
    expect(found.items.map((saga) => saga.sagaId)).toContain(uuidOf(1, 42000));
    expect(found.items.length).toBeGreaterThan(0);
    expect(found.items[0]!.matchedBy).toBe(matchedBy);
    await expectIndexed(() => readModel.find(platformOperator, id), [], 2000);
  });

  it('shows one saga with its order, steps and audit trail by their indexes', async () => {
    const id = uuidOf(1, 42000);
    const detail = await readModel.show(operator, id);
    expect(detail.steps).toHaveLength(1);
    expect(detail.audit).toHaveLength(1);
    await expectIndexed(
      () => readModel.show(operator, id),
      ['saga_steps_saga', 'audit_log_entity'],
      200,
    );
  });
});
