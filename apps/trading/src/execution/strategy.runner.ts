import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { errorMessage } from '@lib/messaging';
import { RepeatingTask } from '@lib/platform';
import { withLogContext } from '@lib/observability';
import { TradingConfig } from '../config';
import { Strategy } from '../strategies/strategy.entity';
import { StrategyState } from '../strategies/strategy.state';
import { recordLive } from '../trading.metrics';
import { OPEN_ORDER_STATUSES } from './order.state';
import { TradingOrder } from './trading-order.entity';
import { StrategyExecution } from './strategy-execution';
import { StrategyLeases } from './strategy-leases';

/**
 * Every interval: finds the strategies that need a holder (Live, or Stopped with orders still
 * open), takes the leases it can, and runs each strategy it holds — a tick if Live, the wind-down
 * of its orders if Stopped. A pass slower than the interval is not overlapped by the next one.
 */
@Injectable()
export class StrategyRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StrategyRunner.name);
  readonly instanceId = `${hostname()}:${process.pid}`;
  private passes?: RepeatingTask;
  private readonly orders: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly leases: StrategyLeases,
    private readonly execution: StrategyExecution,
    private readonly config: TradingConfig,
  ) {
    this.orders = dataSource.getMetadata(TradingOrder).tablePath;
  }

  onApplicationBootstrap(): void {
    this.passes = new RepeatingTask(
      () => this.runOnce(),
      this.config.TRADING_TICK_INTERVAL_MS,
      (error) => this.logger.error({ msg: 'strategy pass failed', error: errorMessage(error) }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.passes?.stop();
  }

  async runOnce(): Promise<void> {
    const candidates = await this.dataSource
      .getRepository(Strategy)
      .createQueryBuilder('s')
      .select([
        's.id',
        's.state',
        's.kind',
        's.quantity',
        's.averagePrice',
        's.realisedPnl',
        's.lastPrice',
      ])
      .where(`s.state = 'Live'`)
      .orWhere(
        `s.state = 'Stopped' AND EXISTS (SELECT 1 FROM ${this.orders} o
           WHERE o.strategy_id = s.id AND o.status IN (:...open))`,
        { open: OPEN_ORDER_STATUSES },
      )
      .getMany();
    const leased = await this.leases.claim(candidates.map((s) => s.id));
    const held = candidates.filter((s) => leased.has(s.id));
    for (const { id, state } of held) {
      await withLogContext({ strategyId: id }, () => this.run(id, state));
    }
    // As of the pass's start: the PnL of a tick is reported by the next pass.
    recordLive(held.filter((s) => s.state === 'Live'));
  }

  /** One strategy's failure is logged and retried next pass; the others run on. */
  private async run(strategyId: string, state: StrategyState): Promise<void> {
    try {
      if (state === 'Live') await this.execution.tick(strategyId, this.instanceId);
      else await this.execution.windDown(strategyId);
    } catch (error) {
      this.logger.error({ msg: 'strategy run failed', error: errorMessage(error) });
    }
  }
}
