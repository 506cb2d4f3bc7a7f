import { IsIn, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent } from '../envelope';
import { IsSymbol, STRATEGY_KINDS, StrategyKind } from './trading-fields';

/** A strategy went Live: from its next tick it reads prices and sends orders. */
export class TradingStrategyDeployedV1Payload {
  @IsUUID() strategyId: string;
  @MaxLength(100) @IsString() name: string;
  @IsSymbol() symbol: string;
  @IsIn(STRATEGY_KINDS) kind: StrategyKind;
}

export const TradingStrategyDeployedV1 = defineEvent(
  'trading.strategy.deployed',
  1,
  TradingStrategyDeployedV1Payload,
);
