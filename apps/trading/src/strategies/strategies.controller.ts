import { Body, Controller, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import {
  CurrentPrincipal,
  IdempotencyKey,
  IdempotencyScope,
  IdempotentRequests,
  Principal,
  Refuses,
  Requires,
  StrictValidationPipe,
  UUID_PARAM,
} from '@lib/platform';
import { CreateStrategyRequest } from './create-strategy.request';
import { StrategiesService, StrategyDetail, StrategyView } from './strategies.service';
import {
  CommandPendingError,
  IllegalTransitionError,
  StrategyNotFoundError,
} from './strategy.errors';
import { StrategyCommand } from './strategy.state';

/** The strategies of the caller's tenant. Writes honour an Idempotency-Key. */
@Controller('v1/trading/strategies')
@UsePipes(StrictValidationPipe)
export class StrategiesController {
  constructor(
    private readonly strategies: StrategiesService,
    private readonly idempotent: IdempotentRequests,
  ) {}

  /** 201: the strategy, Idle. */
  @Post()
  @Requires('strategies:write')
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() request: CreateStrategyRequest,
    @IdempotencyKey() key?: IdempotencyScope,
  ): Promise<StrategyView> {
    return this.idempotent.run(key, request, (manager) =>
      this.strategies.create(manager, principal, request),
    );
  }

  @Get()
  @Requires('strategies:read')
  list(@CurrentPrincipal() principal: Principal): Promise<StrategyView[]> {
    return this.strategies.list(principal.tenantId);
  }

  @Get(':id')
  @Requires('strategies:read')
  @Refuses(StrategyNotFoundError)
  find(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID_PARAM) strategyId: string,
  ): Promise<StrategyDetail> {
    return this.strategies.find(principal.tenantId, strategyId);
  }

  /** 202 with `pendingCommand: 'deploy'`; the strategy turns Live once an instance applies it. */
  @Post(':id/deploy')
  @HttpCode(202)
  @Requires('strategies:write')
  @Refuses(StrategyNotFoundError, CommandPendingError, IllegalTransitionError)
  deploy(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID_PARAM) strategyId: string,
    @IdempotencyKey() key?: IdempotencyScope,
  ): Promise<StrategyView> {
    return this.command(principal, strategyId, 'deploy', key);
  }

  /** 202 with `pendingCommand: 'stop'`; it ticks no more once an instance applies it. */
  @Post(':id/stop')
  @HttpCode(202)
  @Requires('strategies:write')
  @Refuses(StrategyNotFoundError, CommandPendingError, IllegalTransitionError)
  stop(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID_PARAM) strategyId: string,
    @IdempotencyKey() key?: IdempotencyScope,
  ): Promise<StrategyView> {
    return this.command(principal, strategyId, 'stop', key);
  }

  private command(
    principal: Principal,
    strategyId: string,
    command: StrategyCommand,
    key: IdempotencyScope | undefined,
  ): Promise<StrategyView> {
    return this.idempotent.run(key, { strategyId }, (manager) =>
      this.strategies.request(manager, principal, strategyId, command),
    );
  }
}
