import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsPnl, IsPosition } from './trading-fields';

/** A strategy was stopped: it ticks no more; its position is left as it stands. */
export class TradingStrategyStoppedV1Payload {
  @IsUUID() strategyId: string;
  @IsPosition() position: number;
  @IsPnl() realisedPnl: number;
}

export const TradingStrategyStoppedV1 = defineEvent(
  'trading.strategy.stopped',
  1,
  TradingStrategyStoppedV1Payload,
);
