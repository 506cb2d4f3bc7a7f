import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { createEvent, STRATEGY_KINDS, TradingStrategyDeployRequestedV1 } from '@lib/contracts';
import { query } from '../harness/database';
import { publishEvent } from '../harness/events';
import {
  asCustomer,
  asMerchant,
  asOperator,
  asTrader,
  bearer,
  OPERATOR,
  TRADER,
} from '../harness/tokens';
import { Headers, strategyBody, StrategyView, TradingSystem } from '../harness/trading-system';
import { untilHandled } from '../harness/app-probes';

describe('trading strategies', () => {
  let trading: TradingSystem;

  beforeAll(async () => {
    trading = await TradingSystem.start(1, { PAPER_MAX_ORDER_QTY: '1000' });
  }, 90_000);

  afterAll(async () => {
    await trading?.stop();
  });

  it('deploys over JetStream, trades with partial fills, stops, and ticks no more after stop', async () => {
    const created = await trading.http<StrategyView>(
      'POST',
      '/v1/trading/strategies',
      strategyBody(),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'Idle',
      pendingCommand: null,
      tick: 0,
      position: 0,
    });
    const { strategyId } = created.body;

    const deploy = await trading.http('POST', `/v1/trading/strategies/${strategyId}/deploy`);
    expect(deploy.status).toBe(202);
    expect(deploy.body).toMatchObject({ strategyId, state: 'Idle', pendingCommand: 'deploy' });
    await trading.until(strategyId, (s) => s.state === 'Live', 'Live');

    const trading3 = await trading.until(
      strategyId,
      (s) => s.recentOrders.filter((o) => o.status === 'FILLED').length >= 3,
      'three filled orders',
    );
    expect(trading3.tickedBy).toMatch(/:\d+$/);

    // A second strategy keeps the runner busy: its ticks prove passes ran after the stop.
    const witness = await trading.create({
      name: 'ETH trend',
      symbol: 'ETH-USD',
      kind: 'ma-crossover',
      params: { fastPeriod: 3, slowPeriod: 8, quantity: 4 },
    });
    await trading.command(witness, 'deploy');

    const stop = await trading.http('POST', `/v1/trading/strategies/${strategyId}/stop`);
    expect(stop.status).toBe(202);
    expect(stop.body).toMatchObject({ state: 'Live', pendingCommand: 'stop' });
    const stopped = await trading.until(strategyId, (s) => s.state === 'Stopped', 'Stopped');
    const witnessTick = (await trading.strategy(witness)).tick;
    await trading.until(witness, (s) => s.tick >= witnessTick + 3, 'three more witness ticks');
    // Open orders are wound down: filled or cancelled, none left working.
    const all = await trading.untilSettled(strategyId);
    const after = await trading.strategy(strategyId);
    expect(after.tick).toBe(stopped.tick);
    expect(Math.max(...all.map((o) => o.tick))).toBeLessThanOrEqual(stopped.tick);

    // The position is exactly what the fills add up to.
    expect(after.position).toBe(trading.filledPosition(all));

    await trading.relayed();
    const events = await trading.events(strategyId);
    const named = (name: string) => events.filter((e) => e.eventName === name);
    const [requested] = named('trading.strategy.deploy-requested');
    expect(named('trading.strategy.deployed')).toEqual([
      expect.objectContaining({
        correlationId: strategyId,
        causationId: requested!.eventId,
        payload: { strategyId, name: 'BTC grid', symbol: 'BTC-USD', kind: 'grid' },
      }),
    ]);
    // The stop reports the position it found; fills of orders still open at that moment follow it.
    const stoppedAt = events.findIndex((e) => e.eventName === 'trading.strategy.stopped');
    expect(named('trading.strategy.stopped')).toHaveLength(1);
    const laterFills = events
      .slice(stoppedAt)
      .filter((e) => e.eventName === 'trading.order.filled')
      .reduce(
        (sum, e) => sum + (e.payload.side === 'buy' ? 1 : -1) * Number(e.payload.quantity),
        0,
      );
    expect(Number(events[stoppedAt]!.payload.position) + laterFills).toBe(after.position);
    const sent = all.filter((o) => o.status !== 'REJECTED');
    const submitted = named('trading.order.submitted').map((e) => e.payload.orderId);
    expect(submitted.sort()).toEqual(sent.map((o) => o.id).sort());
    // Two parts per order: a partial fill, then the one that completes it.
    const filledOrder = all.find((o) => o.status === 'FILLED')!;
    expect(
      named('trading.order.filled')
        .filter((e) => e.payload.orderId === filledOrder.id)
        .map((e) => e.payload.status),
    ).toEqual(['PARTIALLY_FILLED', 'FILLED']);

    await trading.command(witness, 'stop');
  }, 120_000);

  it.each([
    [
      'an order above maxOrderQty',
      { center: 200, spacing: 1, levels: 3, quantityPerLevel: 20 },
      { maxPosition: 100, maxOrderQty: 50, maxOrdersPerMinute: 100 },
      'max-order-qty: 60 units exceed the limit of 50',
    ],
    [
      'an order that would take the position beyond maxPosition',
      { center: 200, spacing: 1, levels: 3, quantityPerLevel: 5 },
      { maxPosition: 10, maxOrderQty: 50, maxOrdersPerMinute: 100 },
      'max-position: buy 15 would take the position to 15, beyond ±10',
    ],
  ])(
    'rejects %s before sending it, and publishes the reason',
    async (_case, params, riskLimits, reason) => {
      const strategyId = await trading.create({ params, riskLimits });
      await trading.command(strategyId, 'deploy');
      const rejected = await trading.until(
        strategyId,
        (s) => s.recentOrders.length > 0,
        'a decided order',
      );
      expect(rejected.recentOrders.at(-1)).toMatchObject({
        side: 'buy',
        status: 'REJECTED',
        reason,
      });
      await trading.command(strategyId, 'stop');
      await trading.relayed();
      const events = await trading.events(strategyId);
      expect(events.filter((e) => e.eventName === 'trading.order.submitted')).toEqual([]);
      expect(events.find((e) => e.eventName === 'trading.order.rejected')).toMatchObject({
        correlationId: strategyId,
        payload: { strategyId, side: 'buy', source: 'risk', reason },
      });
      const atExchange = await query(
        `SELECT 1 FROM trading.paper_exchange_orders p
           JOIN trading.orders o ON o.id::text = p.client_order_id WHERE o.strategy_id = $1`,
        [strategyId],
      );
      expect(atExchange).toHaveLength(0);
      expect(rejected.position).toBe(0);
    },
    60_000,
  );

  it('rejects by max orders per minute once the limit is used up', async () => {
    const strategyId = await trading.create({
      riskLimits: { maxPosition: 100, maxOrderQty: 50, maxOrdersPerMinute: 2 },
    });
    await trading.command(strategyId, 'deploy');
    const limited = await trading.until(
      strategyId,
      (s) => s.recentOrders.some((o) => o.status === 'REJECTED'),
      'a rejected order',
    );
    await trading.command(strategyId, 'stop');
    const decided = [...limited.recentOrders].reverse();
    expect(decided.slice(0, 2).map((o) => o.status)).not.toContain('REJECTED');
    expect(decided[2]).toMatchObject({
      status: 'REJECTED',
      reason: 'max-orders-per-minute: 2 orders sent in the last minute, the limit is 2',
    });
  }, 60_000);

  it('records an order the exchange refuses as REJECTED, with the exchange as the source', async () => {
    const strategyId = await trading.create({
      params: { center: 200, spacing: 1, levels: 3, quantityPerLevel: 400 },
      riskLimits: { maxPosition: 5000, maxOrderQty: 2000, maxOrdersPerMinute: 100 },
    });
    await trading.command(strategyId, 'deploy');
    const refused = await trading.until(
      strategyId,
      (s) => s.recentOrders.some((o) => o.status === 'REJECTED'),
      'a refused order',
    );
    await trading.command(strategyId, 'stop');
    const reason = "quantity 1200 is above the venue's limit of 1000";
    expect(refused.recentOrders.at(-1)).toMatchObject({
      quantity: 1200,
      status: 'REJECTED',
      reason,
    });
    await trading.relayed();
    const events = await trading.events(strategyId);
    expect(events.filter((e) => e.eventName === 'trading.order.submitted')).toEqual([]);
    expect(events.find((e) => e.eventName === 'trading.order.rejected')).toMatchObject({
      payload: { strategyId, quantity: 1200, source: 'exchange', reason },
    });
  }, 60_000);

  const valid = strategyBody();
  it.each([
    ['an unknown field', { ...valid, colour: 'red' }, 'property colour should not exist'],
    ['a missing name', { ...valid, name: undefined }, 'name'],
    ['a lower-case symbol', { ...valid, symbol: 'btc-usd' }, 'symbol must look like BTC-USD'],
    ['an unknown kind', { ...valid, kind: 'martingale' }, 'kind must be one of ma-crossover, grid'],
    ['params that are not an object', { ...valid, params: 3 }, 'params must be an object'],
    [
      'grid params with a negative spacing',
      { ...valid, params: { center: 62, spacing: -1, levels: 3, quantityPerLevel: 2 } },
      'params.spacing must be a positive number',
    ],
    [
      'params of another kind',
      { ...valid, params: { fastPeriod: 3, slowPeriod: 8, quantity: 1 } },
      'params.property fastPeriod should not exist',
    ],
    [
      'a fast period not below the slow one',
      { ...valid, kind: 'ma-crossover', params: { fastPeriod: 8, slowPeriod: 8, quantity: 1 } },
      'params.fastPeriod must be less than params.slowPeriod',
    ],
    ['missing risk limits', { ...valid, riskLimits: undefined }, 'riskLimits'],
    [
      'a fractional order limit',
      { ...valid, riskLimits: { maxPosition: 10, maxOrderQty: 1.5, maxOrdersPerMinute: 5 } },
      'riskLimits.maxOrderQty must be an integer',
    ],
    ['a body that is not JSON', '{"name":', 'JSON'],
  ])(
    'answers 400 JSON naming the problem for %s, and creates nothing',
    async (_c, body, problem) => {
      const before = (await trading.http<unknown[]>('GET', '/v1/trading/strategies')).body;
      const response = await trading.http('POST', '/v1/trading/strategies', body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400 });
      expect(JSON.stringify(response.body.message)).toContain(problem);
      const after = (await trading.http<unknown[]>('GET', '/v1/trading/strategies')).body;
      expect(after).toHaveLength(before.length);
    },
  );

  it('answers 404 for an unknown strategy and 400 for a malformed id', async () => {
    const unknown = randomUUID();
    for (const path of ['', '/deploy', '/stop']) {
      const method = path ? 'POST' : 'GET';
      expect(await trading.http(method, `/v1/trading/strategies/${unknown}${path}`)).toEqual({
        status: 404,
        body: {
          statusCode: 404,
          code: 'TRADING.STRATEGY_NOT_FOUND',
          message: `strategy ${unknown} does not exist`,
        },
      });
      expect(await trading.http(method, `/v1/trading/strategies/nope${path}`)).toMatchObject({
        status: 400,
        body: { code: 'REQUEST.INVALID', message: 'id must be a UUID' },
      });
    }
  });

  it('answers 409 for an illegal transition or a command still pending, and changes nothing', async () => {
    const strategyId = await trading.create();
    const path = (command: string) => `/v1/trading/strategies/${strategyId}/${command}`;
    expect(await trading.http('POST', path('stop'))).toEqual({
      status: 409,
      body: {
        statusCode: 409,
        code: 'TRADING.ILLEGAL_TRANSITION',
        message: `strategy ${strategyId} is Idle: it cannot stop`,
      },
    });

    // NATS down: the deploy waits in the outbox, so the second command finds it pending.
    await trading.nats.stop();
    try {
      expect((await trading.http('POST', path('deploy'))).status).toBe(202);
      for (const command of ['deploy', 'stop']) {
        expect(await trading.http('POST', path(command))).toMatchObject({
          status: 409,
          body: { code: 'TRADING.COMMAND_PENDING' },
        });
      }
    } finally {
      await trading.restartNats();
    }
    await trading.until(strategyId, (s) => s.state === 'Live', 'Live once NATS is back');

    expect(await trading.http('POST', path('deploy'))).toMatchObject({
      status: 409,
      body: { code: 'TRADING.ILLEGAL_TRANSITION', message: /is Live: it cannot deploy/ },
    });
    await trading.command(strategyId, 'stop');
    for (const command of ['deploy', 'stop']) {
      expect(await trading.http('POST', path(command))).toMatchObject({
        status: 409,
        body: { code: 'TRADING.ILLEGAL_TRANSITION', message: /is Stopped/ },
      });
    }
    expect(await trading.strategy(strategyId)).toMatchObject({
      state: 'Stopped',
      pendingCommand: null,
    });
  }, 90_000);

  it('applies a redelivered or stale deploy command once', async () => {
    const strategyId = await trading.create();
    await trading.command(strategyId, 'deploy');
    await trading.relayed();
    const [requested] = (await trading.events(strategyId)).filter(
      (e) => e.eventName === TradingStrategyDeployRequestedV1.eventName,
    );
    const js = jetstream(trading.nc);
    const stale = createEvent(
      TradingStrategyDeployRequestedV1,
      { strategyId },
      { correlationId: strategyId },
    );
    await publishEvent(js, requested!, { asCopy: true });
    const seq = await publishEvent(js, stale);
    await untilHandled(trading.jsm, 'trading', TradingStrategyDeployRequestedV1.subject, seq);
    await trading.command(strategyId, 'stop');
    await trading.relayed();
    const names = (await trading.events(strategyId))
      .map((e) => e.eventName)
      .filter((name) => name.startsWith('trading.strategy.'));
    expect(names.filter((n) => n === 'trading.strategy.deployed')).toHaveLength(1);
    expect(names.filter((n) => n === 'trading.strategy.stopped')).toHaveLength(1);
  }, 60_000);

  it('exposes its metrics, none of them labelled per strategy', async () => {
    const metrics = await (await fetch(`${trading.url}/metrics`)).text();
    for (const name of [
      'strategies_live',
      'trading_orders_sent_total',
      'trading_orders_rejected_total',
      'trading_fills_total',
      'pnl_estimated',
    ]) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    expect(metrics).toMatch(/trading_orders_sent_total\{[^}]*\} [1-9]/);
    for (const source of ['risk', 'exchange']) {
      expect(metrics).toMatch(
        new RegExp(`trading_orders_rejected_total\\{[^}]*source="${source}"[^}]*\\} [1-9]`),
      );
    }
    expect(metrics).toMatch(/trading_fills_total\{[^}]*\} [1-9]/);
    // One PnL series per strategy kind, whatever number of strategies this suite created.
    const pnl = metrics.split('\n').filter((line) => line.startsWith('pnl_estimated{'));
    expect(pnl.map((line) => /kind="([^"]+)"/.exec(line)?.[1]).sort()).toEqual(
      [...STRATEGY_KINDS].sort(),
    );
    for (const line of pnl) {
      const labels = [...line.matchAll(/([a-z_]+)="/g)].map((match) => match[1]);
      expect(labels.sort()).toEqual(['kind', 'service']);
    }
    expect(metrics).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });

  describe('access, tenancy, audit and Idempotency-Key', () => {
    const traderOf = (tenantId: string, sub = TRADER.sub) => bearer(sub, TRADER.roles, tenantId);
    const strategiesIn = async (tenantId: string) =>
      (
        await query<{ id: string }>(
          `SELECT id FROM trading.strategies WHERE tenant_id = $1 ORDER BY created_at`,
          [tenantId],
        )
      ).map((row) => row.id);
    const auditOf = (strategyId: string) =>
      query<Record<string, unknown>>(
        `SELECT actor, tenant_id, action, entity_type, result FROM trading.audit_log
          WHERE entity_id = $1 ORDER BY id`,
        [strategyId],
      );

    it('answers 401 without a token and 403 to customers and merchants on every route, and changes nothing', async () => {
      const strategyId = await trading.create();
      const routes: [string, string, unknown?][] = [
        ['POST', '/v1/trading/strategies', strategyBody()],
        ['GET', '/v1/trading/strategies'],
        ['GET', `/v1/trading/strategies/${strategyId}`],
        ['POST', `/v1/trading/strategies/${strategyId}/deploy`],
        ['POST', `/v1/trading/strategies/${strategyId}/stop`],
      ];
      const before = await strategiesIn('default');
      for (const [method, path, body] of routes) {
        expect(await trading.http(method, path, body, {})).toMatchObject({
          status: 401,
          body: { code: 'AUTH.UNAUTHENTICATED' },
        });
        for (const token of [await asCustomer(), await asMerchant()]) {
          expect(await trading.http(method, path, body, token)).toMatchObject({
            status: 403,
            body: { code: 'AUTH.FORBIDDEN' },
          });
        }
        // Operators read strategies but do not trade.
        const operator = await trading.http(method, path, body, await asOperator());
        expect(operator.status).toBe(method === 'GET' ? 200 : 403);
      }
      expect(await strategiesIn('default')).toEqual(before);
      expect(await trading.strategy(strategyId)).toMatchObject({
        state: 'Idle',
        pendingCommand: null,
      });
      expect(await auditOf(strategyId)).toEqual([
        expect.objectContaining({ action: 'strategy.create' }),
      ]);
    });

    it("keeps tenants apart: another tenant's strategy is not found, listed, deployed or stopped", async () => {
      const [a, b] = [await traderOf('tenant-a'), await traderOf('tenant-b')];
      const strategyId = await trading.create({ name: 'tenant A grid' }, a);
      const path = `/v1/trading/strategies/${strategyId}`;
      const notFound = {
        status: 404,
        body: {
          statusCode: 404,
          code: 'TRADING.STRATEGY_NOT_FOUND',
          message: `strategy ${strategyId} does not exist`,
        },
      };
      for (const other of [
        b,
        await asTrader(),
        await bearer(OPERATOR.sub, OPERATOR.roles, 'tenant-b'),
      ]) {
        expect(await trading.http('GET', path, undefined, other)).toEqual(notFound);
        const listed = await trading.http<StrategyView[]>(
          'GET',
          '/v1/trading/strategies',
          undefined,
          other,
        );
        expect(listed.body.map((s) => s.strategyId)).not.toContain(strategyId);
      }
      for (const command of ['deploy', 'stop']) {
        expect(await trading.http('POST', `${path}/${command}`, undefined, b)).toEqual(notFound);
      }
      expect(await trading.strategy(strategyId, a)).toMatchObject({
        state: 'Idle',
        pendingCommand: null,
        createdBy: TRADER.sub,
      });
      const listed = await trading.http<StrategyView[]>(
        'GET',
        '/v1/trading/strategies',
        undefined,
        a,
      );
      expect(listed.body.map((s) => s.strategyId)).toEqual([strategyId]);
      // An operator of the tenant reads it.
      const operator = await bearer(OPERATOR.sub, OPERATOR.roles, 'tenant-a');
      expect((await trading.http('GET', path, undefined, operator)).status).toBe(200);

      await trading.command(strategyId, 'deploy', a);
      await trading.command(strategyId, 'stop', a);
      await trading.relayed();
      const events = (await trading.events(strategyId)).filter((e) =>
        e.eventName.startsWith('trading.strategy.'),
      );
      expect(events.map((e) => e.eventName)).toEqual([
        'trading.strategy.deploy-requested',
        'trading.strategy.deployed',
        'trading.strategy.stop-requested',
        'trading.strategy.stopped',
      ]);
      expect(new Set((await trading.events(strategyId)).map((e) => e.tenantId))).toEqual(
        new Set(['tenant-a']),
      );
      expect(await strategiesIn('tenant-b')).toEqual([]);
    }, 60_000);

    it('audits create, deploy and stop once each, with the actor and tenant; a refused command leaves none', async () => {
      const a = await traderOf('tenant-audit', 'trader-audit');
      const strategyId = await trading.create({}, a);
      await trading.command(strategyId, 'deploy', a);
      const again = await trading.http(
        'POST',
        `/v1/trading/strategies/${strategyId}/deploy`,
        undefined,
        a,
      );
      expect(again.status).toBe(409);
      await trading.command(strategyId, 'stop', a);
      const record = (action: string) => ({
        actor: 'trader-audit',
        tenant_id: 'tenant-audit',
        action,
        entity_type: 'strategy',
        result: 'success',
      });
      expect(await auditOf(strategyId)).toEqual([
        record('strategy.create'),
        record('strategy.deploy'),
        record('strategy.stop'),
      ]);
      // The tenant's operators read the trail over HTTP; other tenants' operators do not see it.
      const trail = async (tenantId: string) =>
        (
          await trading.http<{ items: { action: string }[] }>(
            'GET',
            `/audit?entity=${strategyId}`,
            undefined,
            await bearer(OPERATOR.sub, OPERATOR.roles, tenantId),
          )
        ).body.items.map((item) => item.action);
      expect(await trail('tenant-audit')).toEqual([
        'strategy.stop',
        'strategy.deploy',
        'strategy.create',
      ]);
      expect(await trail('tenant-b')).toEqual([]);
    }, 60_000);

    describe('Idempotency-Key', () => {
      const keyed = async (key: string, tenantId = 'tenant-keys', sub = TRADER.sub) => ({
        ...(await traderOf(tenantId, sub)),
        'idempotency-key': key,
      });
      const create = async (headers: Headers, overrides: Record<string, unknown> = {}) =>
        trading.http<StrategyView>(
          'POST',
          '/v1/trading/strategies',
          strategyBody(overrides),
          headers,
        );

      it('creates one strategy for a retried request, and answers as the first time', async () => {
        const headers = await keyed('create-1');
        const first = await create(headers, { name: 'keyed grid' });
        const retries = await Promise.all(
          [1, 2, 3].map(() => create(headers, { name: 'keyed grid' })),
        );
        expect(first.status).toBe(201);
        for (const retry of retries) expect(retry).toEqual(first);
        const created = await query<{ id: string }>(
          `SELECT id FROM trading.strategies WHERE name = 'keyed grid'`,
        );
        expect(created.map((row) => row.id)).toEqual([first.body.strategyId]);
        expect(await auditOf(first.body.strategyId)).toHaveLength(1);
      });

      it('answers 422 to the key with another body, and creates nothing', async () => {
        const headers = await keyed('create-2');
        expect((await create(headers, { name: 'first body' })).status).toBe(201);
        const before = await strategiesIn('tenant-keys');
        expect(await create(headers, { name: 'second body' })).toMatchObject({
          status: 422,
          body: { code: 'REQUEST.IDEMPOTENCY_KEY_REUSED' },
        });
        expect(await strategiesIn('tenant-keys')).toEqual(before);
      });

      it("keeps another principal's key of the same name apart", async () => {
        const mine = await create(await keyed('create-3'));
        const colleague = await create(await keyed('create-3', 'tenant-keys', 'trader-2'));
        const elsewhere = await create(await keyed('create-3', 'tenant-keys-2'));
        expect([mine.status, colleague.status, elsewhere.status]).toEqual([201, 201, 201]);
        const ids = new Set([mine, colleague, elsewhere].map((r) => r.body.strategyId));
        expect(ids.size).toBe(3);
        // Another body under the colleague's key is the colleague's business: not a 422 for me.
        expect(
          (await create(await keyed('create-3', 'tenant-keys', 'trader-2'), { name: 'x' })).status,
        ).toBe(422);
        expect((await create(await keyed('create-3'))).body).toEqual(mine.body);
      });

      it('sends a retried deploy and stop once each, answering the first answer', async () => {
        const owner = await traderOf('tenant-keys');
        const strategyId = await trading.create({}, owner);
        const path = `/v1/trading/strategies/${strategyId}`;
        for (const command of ['deploy', 'stop'] as const) {
          const headers = await keyed(`${command}-${strategyId}`);
          const first = await trading.http('POST', `${path}/${command}`, undefined, headers);
          expect(first).toMatchObject({ status: 202, body: { pendingCommand: command } });
          // Pending or carried out meanwhile, the retry answers the accepted command, not a 409.
          const retry = await trading.http('POST', `${path}/${command}`, undefined, headers);
          expect(retry).toEqual(first);
          const state = command === 'deploy' ? 'Live' : 'Stopped';
          await trading.until(
            strategyId,
            (s) => s.state === state && !s.pendingCommand,
            state,
            owner,
          );
          expect(await trading.http('POST', `${path}/${command}`, undefined, headers)).toEqual(
            first,
          );
        }
        // The key belongs to its strategy: the same key on another one is another request.
        const otherId = await trading.create({}, owner);
        const reused = await trading.http(
          'POST',
          `/v1/trading/strategies/${otherId}/deploy`,
          undefined,
          await keyed(`deploy-${strategyId}`),
        );
        expect(reused).toMatchObject({
          status: 422,
          body: { code: 'REQUEST.IDEMPOTENCY_KEY_REUSED' },
        });
        await trading.relayed();
        const commands = (await trading.events(strategyId)).filter((e) =>
          e.eventName.endsWith('-requested'),
        );
        expect(commands.map((e) => e.eventName)).toEqual([
          'trading.strategy.deploy-requested',
          'trading.strategy.stop-requested',
        ]);
        expect((await auditOf(strategyId)).map((r) => r.action)).toEqual([
          'strategy.create',
          'strategy.deploy',
          'strategy.stop',
        ]);
        expect(await trading.strategy(otherId, owner)).toMatchObject({
          state: 'Idle',
          pendingCommand: null,
        });
      }, 60_000);
    });
  });
});
