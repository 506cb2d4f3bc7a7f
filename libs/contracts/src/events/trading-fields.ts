import { IsIn, IsInt, IsNumber, IsPositive, IsString, Matches, Max, Min } from 'class-validator';
import { applyDecorators } from './fields';

/** An instrument as the trading app names it: `BTC-USD`, `AAPL`. */
export const SYMBOL_PATTERN = /^[A-Z0-9]{1,12}(-[A-Z0-9]{1,12})?$/;

export const ORDER_SIDES = ['buy', 'sell'] as const;
export type OrderSide = (typeof ORDER_SIDES)[number];

export const STRATEGY_KINDS = ['ma-crossover', 'grid'] as const;
export type StrategyKind = (typeof STRATEGY_KINDS)[number];

/** Units of an instrument in one order or position: whole numbers, like exchange lots. */
export const MAX_TRADING_QUANTITY = 1_000_000_000;

export const IsSymbol = () =>
  applyDecorators(
    Matches(SYMBOL_PATTERN, { message: '$property must look like BTC-USD (A-Z 0-9, one dash)' }),
    IsString(),
  );

export const IsOrderSide = () => IsIn(ORDER_SIDES, { message: '$property must be buy or sell' });

export const IsTradingQuantity = () => applyDecorators(Max(MAX_TRADING_QUANTITY), Min(1), IsInt());

/** A signed position in units. */
export const IsPosition = () =>
  applyDecorators(Max(MAX_TRADING_QUANTITY), Min(-MAX_TRADING_QUANTITY), IsInt());

export const IsPrice = () => applyDecorators(IsPositive(), IsNumber({ allowNaN: false }));

/** Profit and loss in the quote currency, positive or negative. */
export const IsPnl = () => applyDecorators(IsNumber({ allowNaN: false, allowInfinity: false }));
