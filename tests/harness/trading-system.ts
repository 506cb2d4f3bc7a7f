import { jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/nats-core';
import { ok, tradingClient, TradingApi, TradingSchema } from '@lib/client';
import { EventEnvelope } from '@lib/contracts';
import { AppProcess, startAppProcess } from './app-process';
import { appDatabaseEnv, freshSchema, query } from './database';
import { startNatsServer, TestNatsServer } from './nats-server';
import { readStream } from './streams';
import { asTrader } from './tokens';
import { untilRelayed } from './app-probes';
import { eventually } from './wait';

/** A strategy with its recent orders, as `GET /v1/trading/strategies/{id}` answers it. */
export type StrategyView = TradingSchema<'StrategyDetail'>;
export type CreateStrategyBody = TradingSchema<'CreateStrategyRequest'>;

/** An order row as the database holds it; `filled` is its filled quantity. */
export interface OrderRow {
  id: string;
  tick: number;
  side: string;
  status: string;
  filled: number;
}

/** Statuses an order never leaves: nothing fills or cancels it any more. */
const FINAL_STATUSES = ['FILLED', 'CANCELLED', 'REJECTED'];

/** A grid around where the simulated BTC-USD swings (59 to 65 with seed 42): it trades every few ticks. */
export function strategyBody(overrides: Partial<CreateStrategyBody> = {}): CreateStrategyBody {
  return {
    name: 'BTC grid',
    symbol: 'BTC-USD',
    kind: 'grid',
    params: { center: 62, spacing: 1, levels: 3, quantityPerLevel: 2 },
    riskLimits: { maxPosition: 100, maxOrderQty: 50, maxOrdersPerMinute: 1000 },
    ...overrides,
  };
}

/** Request headers: a bearer token (or none), an Idempotency-Key. */
export type Headers = Record<string, string>;

/**
 * Trading app processes on a private nats-server and a fresh `trading` schema of the test
 * database, with fast ticks and fills, plus a NATS connection to read the TRADING stream. Calls
 * are made as `TRADER` of the default tenant unless given other headers.
 */
export class TradingSystem {
  instances: AppProcess[] = [];
  nc!: NatsConnection;
  jsm!: JetStreamManager;

  private constructor(
    readonly nats: TestNatsServer,
    private readonly env: Record<string, string>,
  ) {}

  static async start(instances = 1, env: Record<string, string> = {}): Promise<TradingSystem> {
    await freshSchema('trading');
    const system = new TradingSystem(await startNatsServer(), {
      // As its own Postgres role, migrating as the schema owner.
      ...(await appDatabaseEnv('trading')),
      NATS_RETRY_BASE_MS: '100',
      OUTBOX_POLL_MS: '200',
      OUTBOX_RELAY_AFTER_MS: '1000',
      TRADING_TICK_INTERVAL_MS: '100',
      MARKET_DATA_SEED: '42',
      PAPER_LATENCY_MS: '100',
      PAPER_FILL_PARTS: '2',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    });
    try {
      // Together: migrations take an advisory lock per schema, so only one instance applies them.
      const started = await Promise.allSettled(
        Array.from({ length: instances }, () => system.startInstance()),
      );
      for (const instance of started)
        if (instance.status === 'fulfilled') system.instances.push(instance.value);
      for (const instance of started) if (instance.status === 'rejected') throw instance.reason;
      system.nc = await system.nats.connect(undefined, {
        maxReconnectAttempts: -1,
        reconnectTimeWait: 200,
      });
      system.jsm = await jetstreamManager(system.nc);
      return system;
    } catch (error) {
      await system.stop();
      throw error;
    }
  }

  startInstance(): Promise<AppProcess> {
    return startAppProcess('trading', { ...this.env, ...this.nats.env('trading') });
  }

  /** Kills an instance without warning (SIGKILL): its sessions die with it, leases included. */
  async kill(instance: AppProcess): Promise<void> {
    instance.child.kill('SIGKILL');
    await instance.stop();
    this.instances = this.instances.filter((running) => running !== instance);
  }

  /** The instance whose `host:pid` is `tickedBy`. */
  instanceNamed(tickedBy: string | null): AppProcess | undefined {
    return this.instances.find((instance) => tickedBy?.endsWith(`:${instance.child.pid}`));
  }

  async stop(): Promise<void> {
    await this.nc?.close();
    await Promise.all(this.instances.map((instance) => instance.stop()));
    await this.nats.destroy();
  }

  get url(): string {
    return this.instances[0]!.url;
  }

  /**
   * The SDK a trading client would use, on the first instance still running; each call passes its
   * principal's headers. Retries off: a test sees what the app answered.
   */
  private client(): TradingApi {
    return tradingClient({ baseUrl: this.url, retries: 0 });
  }

  /**
   * A raw request, for what a typed client cannot send (a malformed body, a bad id, any route of a
   * table of cases); `headers` replace the default trader's token: `{}` calls without one.
   */
  async http<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Headers,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(headers ?? (await asTrader())),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async create(overrides: Partial<CreateStrategyBody> = {}, headers?: Headers): Promise<string> {
    const created = await ok(
      this.client().POST('/v1/trading/strategies', {
        body: strategyBody(overrides),
        headers: headers ?? (await asTrader()),
      }),
    );
    return created.strategyId;
  }

  async strategy(strategyId: string, headers?: Headers): Promise<StrategyView> {
    return ok(
      this.client().GET('/v1/trading/strategies/{id}', {
        params: { path: { id: strategyId } },
        headers: headers ?? (await asTrader()),
      }),
    );
  }

  /** Sends the command and waits until an instance has carried it out. */
  async command(
    strategyId: string,
    command: 'deploy' | 'stop',
    headers?: Headers,
  ): Promise<StrategyView> {
    await ok(
      this.client().POST(`/v1/trading/strategies/{id}/${command}`, {
        params: { path: { id: strategyId } },
        headers: headers ?? (await asTrader()),
      }),
    );
    const state = command === 'deploy' ? 'Live' : 'Stopped';
    const done = (s: StrategyView) => s.state === state && s.pendingCommand === null;
    return this.until(strategyId, done, state, headers);
  }

  until(
    strategyId: string,
    check: (strategy: StrategyView) => boolean,
    what: string,
    headers?: Headers,
  ): Promise<StrategyView> {
    return eventually(
      async () => {
        const strategy = await this.strategy(strategyId, headers);
        return check(strategy) ? strategy : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `strategy ${strategyId}: ${what}` },
    );
  }

  /** Every order of the strategy, by tick, read from the database rather than the API's recent 20. */
  orders(strategyId: string): Promise<OrderRow[]> {
    return query<OrderRow>(
      `SELECT id, tick, side, status, filled_quantity AS filled FROM trading.orders
        WHERE strategy_id = $1 ORDER BY tick`,
      [strategyId],
    );
  }

  /** Waits until none of the strategy's orders can change any more, and answers them. */
  untilSettled(strategyId: string): Promise<OrderRow[]> {
    return eventually(
      async () => {
        const orders = await this.orders(strategyId);
        return orders.every((o) => FINAL_STATUSES.includes(o.status)) ? orders : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `strategy ${strategyId}: its orders to settle` },
    );
  }

  /** The position the orders' fills add up to. */
  filledPosition(orders: Pick<OrderRow, 'side' | 'filled'>[]): number {
    return orders.reduce((sum, o) => sum + (o.side === 'buy' ? o.filled : -o.filled), 0);
  }

  /** Every event about one strategy on the TRADING stream, oldest first. */
  async events(strategyId: string): Promise<EventEnvelope<Record<string, unknown>>[]> {
    const all = await readStream<EventEnvelope<Record<string, unknown>>>(this.jsm, 'TRADING');
    return all.map((m) => m.body).filter((e) => e.payload.strategyId === strategyId);
  }

  /**
   * Restarts the killed nats-server and waits until the test's own connection is back: nats.js
   * loses a request it buffered while reconnecting, which would time out the next stream read.
   */
  async restartNats(): Promise<void> {
    await this.nats.start();
    await eventually(
      async () => Boolean(await this.nc.request('$JS.API.INFO', undefined, { timeout: 500 })),
      { what: 'the test connection to reach JetStream again' },
    );
  }

  /** Resolves once every event the apps committed is on the stream. */
  relayed(): Promise<void> {
    return untilRelayed('trading');
  }
}
