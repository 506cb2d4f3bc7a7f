import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsPositive,
  MinLength,
  Max,
  Min,
  validateSync,
  ValidateNested,
} from 'class-validator';
import {
  describeErrors,
  IsSymbol,
  IsText,
  IsTradingQuantity,
  MAX_TRADING_QUANTITY,
  STRATEGY_KINDS,
  StrategyKind,
} from '@lib/contracts';
import { InvalidRequestError } from '@lib/platform';
import { RiskLimits } from '../execution/risk-limits';
import { GridParams, MaCrossoverParams, StrategySpec } from './strategy-kinds';

export class RiskLimitsRequest implements RiskLimits {
  @Max(MAX_TRADING_QUANTITY)
  @Min(0)
  @IsInt()
  maxPosition: number;

  @IsTradingQuantity()
  maxOrderQty: number;

  @Max(10_000)
  @Min(1)
  @IsInt()
  maxOrdersPerMinute: number;
}

export class MaCrossoverParamsRequest implements MaCrossoverParams {
  @Max(200)
  @Min(1)
  @IsInt()
  fastPeriod: number;

  @Max(500)
  @Min(2)
  @IsInt()
  slowPeriod: number;

  @IsTradingQuantity()
  quantity: number;
}

export class GridParamsRequest implements GridParams {
  @IsPositive()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  center: number;

  @IsPositive()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  spacing: number;

  @Max(100)
  @Min(1)
  @IsInt()
  levels: number;

  @IsTradingQuantity()
  quantityPerLevel: number;
}

/** `POST /v1/trading/strategies`: `params` as the kind defines them (see docs/trading.md). */
export class CreateStrategyRequest {
  @MinLength(1)
  @IsText(100)
  name: string;

  @IsSymbol()
  symbol: string;

  @IsIn(STRATEGY_KINDS, { message: `kind must be one of ${STRATEGY_KINDS.join(', ')}` })
  kind: StrategyKind;

  @IsObject()
  params: object;

  @ValidateNested()
  @Type(() => RiskLimitsRequest)
  @IsObject()
  riskLimits: RiskLimitsRequest;
}

const PARAMS: Record<StrategyKind, new () => object> = {
  'ma-crossover': MaCrossoverParamsRequest,
  grid: GridParamsRequest,
};

/**
 * `params` depend on `kind`, which a decorator cannot see: they are checked here, with the same
 * strictness as the body (unknown fields refused), and answer 400 naming `params.<field>`.
 */
export function strategySpec(request: CreateStrategyRequest): StrategySpec {
  const params = plainToInstance(PARAMS[request.kind], request.params);
  const errors = validateSync(params, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new InvalidRequestError(describeErrors(errors, 'params.'));
  const spec = { kind: request.kind, params } as StrategySpec;
  if (spec.kind === 'ma-crossover' && spec.params.fastPeriod >= spec.params.slowPeriod) {
    throw new InvalidRequestError('params.fastPeriod must be less than params.slowPeriod');
  }
  return spec;
}
