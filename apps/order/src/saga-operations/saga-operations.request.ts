import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsIdentifier, IsReason } from '@lib/contracts';
import { SAGA_ACTIONS, SagaAction } from '@lib/operator-api';
import { SAGA_STATES, SagaState } from '../order-saga/order-saga.state';

/** A year: older than that is "any age". */
const MAX_AGE_MS = 365 * 24 * 3600 * 1000;
export const MAX_BULK_LIMIT = 500;

/** `?stuck=true|false`: a query string has no booleans, and `Boolean('false')` is true. */
const booleanQuery = () =>
  Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  );

/** The filters of the list, the counts and bulk actions but the state; all ANDed. */
class SagaFilterFields {
  /** Another tenant than the token's needs `tenants:all`; without it, it matches nothing. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: 'tenantId must be 1-64 characters of A-Z a-z 0-9 . _ -',
  })
  tenantId?: string;

  @IsOptional()
  @IsIdentifier(200)
  reason?: string;

  @IsOptional()
  @IsIdentifier(100)
  customerId?: string;

  /** In its current state for at least this long. */
  @IsOptional()
  @Max(MAX_AGE_MS)
  @Min(0)
  @IsInt()
  @Type(() => Number)
  olderThanMs?: number;

  /** Not final and past its deadline, or (with olderThanMs) in its state that long. */
  @IsOptional()
  @IsBoolean({ message: 'stuck must be true or false' })
  @booleanQuery()
  stuck?: boolean;
}

/** The filters of the list and the counts: every one optional. */
export class SagaFilterRequest extends SagaFilterFields {
  @IsOptional()
  @IsIn(SAGA_STATES, { message: `state must be one of ${SAGA_STATES.join(', ')}` })
  state?: SagaState;
}

/** `GET /operator/sagas`: newest transition first. */
export class ListSagasRequest extends SagaFilterRequest {
  /** `nextCursor` of the previous page. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a nextCursor of this list' })
  cursor?: string;

  @IsOptional()
  @Max(200)
  @Min(1)
  @IsInt()
  @Type(() => Number)
  limit = 50;
}

/** `GET /operator/sagas/find?id=`: a saga, order, customer or PaymentIntent id. */
export class FindSagaRequest {
  @IsIdentifier(200)
  id: string;
}

/** The body of `retry` and `cancel`: an optional note for the audit record. */
export class SagaActionRequest {
  /** Why the operator acts; kept in the audit record. Never customer data. */
  @IsOptional()
  @IsReason()
  note?: string;
}

/** The body of `resolve`: what the person did, required. */
export class ResolveSagaRequest {
  @MinLength(1, { message: 'note must say what was done to resolve the saga' })
  @IsReason()
  note: string;
}

/** The filter of a bulk action: it names the state it acts on. */
export class BulkSagaFilterRequest extends SagaFilterFields {
  @IsIn(SAGA_STATES, { message: `state must be one of ${SAGA_STATES.join(', ')}` })
  state: SagaState;
}

/** `POST /operator/sagas/bulk`. */
export class BulkSagaActionRequest {
  @IsIn(SAGA_ACTIONS, { message: `action must be one of ${SAGA_ACTIONS.join(', ')}` })
  action: SagaAction;

  @ValidateNested()
  @Type(() => BulkSagaFilterRequest)
  @IsDefined({ message: 'filter is required, with the state to act on' })
  filter: BulkSagaFilterRequest;

  @IsOptional()
  @IsBoolean()
  dryRun = false;

  @IsOptional()
  @Max(MAX_BULK_LIMIT)
  @Min(1)
  @IsInt()
  limit = 100;

  /** Required to resolve. */
  @ValidateIf(
    (request: BulkSagaActionRequest) => request.action === 'resolve' || request.note !== undefined,
  )
  @MinLength(1, { message: 'note must say what was done to resolve the sagas' })
  @IsReason()
  note?: string;
}
