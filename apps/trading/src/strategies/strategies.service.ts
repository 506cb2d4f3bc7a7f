import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  TradingStrategyDeployedV1,
  TradingStrategyDeployRequestedV1,
  TradingStrategyStoppedV1,
  TradingStrategyStopRequestedV1,
} from '@lib/contracts';
import { Outbox } from '@lib/messaging';
import { auditEntry, AuditLog, DEFAULT_TENANT, Principal } from '@lib/platform';
import { TradingOrder } from '../execution/trading-order.entity';
import { unrealisedPnl } from '../execution/position';
import { CreateStrategyRequest, strategySpec } from './create-strategy.request';
import { Strategy } from './strategy.entity';
import {
  CommandPendingError,
  IllegalTransitionError,
  StrategyNotFoundError,
} from './strategy.errors';
import { STRATEGY_TRANSITIONS, StrategyCommand, strategyTransition } from './strategy.state';

const RECENT_ORDERS = 20;

const REQUESTED = {
  deploy: TradingStrategyDeployRequestedV1,
  stop: TradingStrategyStopRequestedV1,
} as const;

/**
 * Strategies of the caller's tenant: another tenant's strategy is not found. The writes run in the
 * caller's transaction (the Idempotency-Key's), with their audit record and outbox events.
 */
@Injectable()
export class StrategiesService {
  private readonly logger = new Logger(StrategiesService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
  ) {}

  async create(
    manager: EntityManager,
    principal: Principal,
    request: CreateStrategyRequest,
  ): Promise<StrategyView> {
    const { kind, params } = strategySpec(request);
    const { maxPosition, maxOrderQty, maxOrdersPerMinute } = request.riskLimits;
    const strategy = await manager.getRepository(Strategy).save({
      id: randomUUID(),
      tenantId: principal.tenantId,
      createdBy: principal.sub,
      name: request.name,
      symbol: request.symbol,
      kind,
      params: { ...params },
      maxPosition,
      maxOrderQty,
      maxOrdersPerMinute,
      state: 'Idle',
      pendingCommand: null,
      tick: 0,
      quantity: 0,
      averagePrice: 0,
      realisedPnl: 0,
      lastPrice: null,
      tickedBy: null,
    });
    await this.audit.record(manager, [
      auditEntry(
        principal,
        'strategy.create',
        { type: 'strategy', id: strategy.id },
        { details: { name: strategy.name, symbol: strategy.symbol, kind } },
      ),
    ]);
    this.logger.log({ msg: 'strategy created', strategyId: strategy.id, kind });
    return strategyView(strategy);
  }

  async find(tenantId: string, strategyId: string): Promise<StrategyDetail> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const strategy = await manager.findOneBy(Strategy, { id: strategyId, tenantId });
      if (!strategy) throw new StrategyNotFoundError(strategyId);
      const orders = await manager.find(TradingOrder, {
        where: { strategyId },
        order: { tick: 'DESC' },
        take: RECENT_ORDERS,
      });
      return { ...strategyView(strategy), recentOrders: orders.map(orderView) };
    });
  }

  async list(tenantId: string): Promise<StrategyView[]> {
    const strategies = await this.dataSource
      .getRepository(Strategy)
      .find({ where: { tenantId }, order: { createdAt: 'DESC' } });
    return strategies.map(strategyView);
  }

  /**
   * Checks the transition now (409 if illegal), records the command as pending and sends it
   * through the outbox; whichever instance consumes it carries it out. Answers the pending state.
   */
  async request(
    manager: EntityManager,
    principal: Principal,
    strategyId: string,
    command: StrategyCommand,
  ): Promise<StrategyView> {
    const { tenantId } = principal;
    const strategy = await manager.findOne(Strategy, {
      where: { id: strategyId, tenantId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!strategy) throw new StrategyNotFoundError(strategyId);
    if (strategy.pendingCommand) throw new CommandPendingError(strategyId, strategy.pendingCommand);
    if (!STRATEGY_TRANSITIONS[strategy.state][command]) {
      throw new IllegalTransitionError(
        `strategy ${strategyId} is ${strategy.state}: it cannot ${command}`,
      );
    }
    strategy.pendingCommand = command;
    await manager.update(Strategy, { id: strategyId }, { pendingCommand: command });
    await this.outbox.add(manager, [
      createEvent(REQUESTED[command], { strategyId }, { correlationId: strategyId, tenantId }),
    ]);
    await this.audit.record(manager, [
      auditEntry(principal, `strategy.${command}`, { type: 'strategy', id: strategyId }),
    ]);
    this.logger.log({ msg: 'strategy command accepted', strategyId, command });
    return strategyView(strategy);
  }

  /**
   * Carries out a command from the stream, inside the consumer's inbox transaction. A command
   * that is no longer pending (replayed, or overtaken) changes nothing.
   */
  async apply(
    manager: EntityManager,
    event: EventEnvelope<{ strategyId: string }>,
    command: StrategyCommand,
  ): Promise<void> {
    const { strategyId } = event.payload;
    // A command names its strategy's tenant: one for a strategy of another tenant finds nothing.
    const strategy = await manager.findOne(Strategy, {
      where: { id: strategyId, tenantId: event.tenantId ?? DEFAULT_TENANT },
      lock: { mode: 'pessimistic_write' },
    });
    if (!strategy || strategy.pendingCommand !== command) {
      this.logger.warn({ msg: 'command not pending, ignored', strategyId, command });
      return;
    }
    const from = strategy.state;
    const state = strategyTransition(from, command);
    await manager.update(Strategy, { id: strategyId }, { state, pendingCommand: null });
    const origin = { cause: event };
    const { name, symbol, kind, quantity: position, realisedPnl } = strategy;
    await this.outbox.add(manager, [
      command === 'deploy'
        ? createEvent(TradingStrategyDeployedV1, { strategyId, name, symbol, kind }, origin)
        : createEvent(TradingStrategyStoppedV1, { strategyId, position, realisedPnl }, origin),
    ]);
    this.logger.log({ msg: 'strategy transition', strategyId, from, to: state });
  }
}

export interface StrategyView {
  /** @format uuid */
  strategyId: string;
  /** The `sub` of the trader who created it; null for strategies from before it was recorded. */
  createdBy: string | null;
  name: string;
  symbol: string;
  kind: string;
  params: object;
  riskLimits: {
    maxPosition: number;
    maxOrderQty: number;
    /** @integer */
    maxOrdersPerMinute: number;
  };
  /** @example Live */
  state: string;
  /** A deploy or stop no instance has applied yet. */
  pendingCommand: StrategyCommand | null;
  /** @integer */
  tick: number;
  position: number;
  averagePrice: number;
  lastPrice: number | null;
  realisedPnl: number;
  unrealisedPnl: number;
  tickedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A strategy with its most recent orders. */
export interface StrategyDetail extends StrategyView {
  /** The 20 newest, newest first. */
  recentOrders: OrderView[];
}

export interface OrderView {
  /** @format uuid */
  orderId: string;
  clientOrderId: string;
  /** @integer */
  tick: number;
  side: string;
  quantity: number;
  referencePrice: number;
  status: string;
  filledQuantity: number;
  averageFillPrice: number | null;
  reason: string | null;
  createdAt: Date;
}

function strategyView(s: Strategy): StrategyView {
  return {
    strategyId: s.id,
    createdBy: s.createdBy,
    name: s.name,
    symbol: s.symbol,
    kind: s.kind,
    params: s.params,
    riskLimits: {
      maxPosition: s.maxPosition,
      maxOrderQty: s.maxOrderQty,
      maxOrdersPerMinute: s.maxOrdersPerMinute,
    },
    state: s.state,
    pendingCommand: s.pendingCommand,
    tick: s.tick,
    position: s.quantity,
    averagePrice: s.averagePrice,
    lastPrice: s.lastPrice,
    realisedPnl: s.realisedPnl,
    unrealisedPnl: unrealisedPnl(s, s.lastPrice),
    tickedBy: s.tickedBy,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

function orderView(o: TradingOrder): OrderView {
  return {
    orderId: o.id,
    clientOrderId: o.id,
    tick: o.tick,
    side: o.side,
    quantity: o.quantity,
    referencePrice: o.referencePrice,
    status: o.status,
    filledQuantity: o.filledQuantity,
    averageFillPrice: o.averageFillPrice,
    reason: o.reason,
    createdAt: o.createdAt,
  };
}
