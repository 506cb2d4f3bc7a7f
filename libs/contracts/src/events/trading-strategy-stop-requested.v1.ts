import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';

/** Command: an HTTP call asked to stop a live strategy; any trading instance carries it out. */
export class TradingStrategyStopRequestedV1Payload {
  @IsUUID() strategyId: string;
}

export const TradingStrategyStopRequestedV1 = defineEvent(
  'trading.strategy.stop-requested',
  1,
  TradingStrategyStopRequestedV1Payload,
);
