import { Body, Controller, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import { StrictValidationPipe, UUID_PARAM } from '@lib/platform';
import { CreateStrategyRequest } from './create-strategy.request';
import { StrategiesService } from './strategies.service';

@Controller('v1/trading/strategies')
@UsePipes(StrictValidationPipe)
export class StrategiesController {
  constructor(private readonly strategies: StrategiesService) {}

  /** 201: the strategy, Idle. */
  @Post()
  create(@Body() request: CreateStrategyRequest) {
    return this.strategies.create(request);
  }

  @Get()
  list() {
    return this.strategies.list();
  }

  @Get(':id')
  find(@Param('id', UUID_PARAM) strategyId: string) {
    return this.strategies.find(strategyId);
  }

  /** 202 with `pendingCommand: 'deploy'`; the strategy turns Live once an instance applies it. */
  @Post(':id/deploy')
  @HttpCode(202)
  deploy(@Param('id', UUID_PARAM) strategyId: string) {
    return this.strategies.request(strategyId, 'deploy');
  }

  /** 202 with `pendingCommand: 'stop'`; it ticks no more once an instance applies it. */
  @Post(':id/stop')
  @HttpCode(202)
  stop(@Param('id', UUID_PARAM) strategyId: string) {
    return this.strategies.request(strategyId, 'stop');
  }
}
