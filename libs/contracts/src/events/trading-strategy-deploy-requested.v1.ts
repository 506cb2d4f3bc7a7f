import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';

/** Command: an HTTP call asked to deploy a strategy; any trading instance carries it out. */
export class TradingStrategyDeployRequestedV1Payload {
  @IsUUID() strategyId: string;
}

export const TradingStrategyDeployRequestedV1 = defineEvent(
  'trading.strategy.deploy-requested',
  1,
  TradingStrategyDeployRequestedV1Payload,
);
