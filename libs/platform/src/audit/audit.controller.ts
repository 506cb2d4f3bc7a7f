import { Controller, Get, Query, UsePipes } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { CurrentPrincipal, Requires } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { StrictValidationPipe } from '../http-errors';
import { AuditLog, AuditPage } from './audit-log';

export class AuditQueryRequest {
  /** The id of the audited entity: an order id, a SKU, a strategy id. */
  @IsOptional()
  @MaxLength(200)
  @IsString()
  entity?: string;

  /** The `sub` of the principal who acted. */
  @IsOptional()
  @MaxLength(200)
  @IsString()
  actor?: string;

  /** ISO 8601 time: records at or after it. */
  @IsOptional()
  @IsDate({ message: 'since must be an ISO 8601 date' })
  @Type(() => Date)
  since?: Date;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/, { message: 'before must be a cursor from nextCursor' })
  before?: string;

  @IsOptional()
  @Max(200)
  @Min(1)
  @IsInt()
  @Type(() => Number)
  limit = 50;
}

/** The audit trail of this app, for operators of the tenant. */
@Controller('audit')
@UsePipes(StrictValidationPipe)
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @Requires('audit:read')
  find(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AuditQueryRequest,
  ): Promise<AuditPage> {
    return this.audit.find(principal.tenantId, query);
  }
}
