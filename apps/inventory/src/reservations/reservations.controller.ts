import { Controller, Get, Query, UsePipes } from '@nestjs/common';
import { CurrentPrincipal, Principal, Requires, StrictValidationPipe } from '@lib/platform';
import { ListReservationsRequest } from './list-reservations.request';
import { ReservationsService, ReservationView } from './reservations.service';

@Controller('inventory/reservations')
@UsePipes(StrictValidationPipe)
export class ReservationsController {
  constructor(private readonly reservations: ReservationsService) {}

  /** At most one per order: one reservation, or the tombstone of an order cancelled first. */
  @Get()
  @Requires('reservations:read')
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() { orderId }: ListReservationsRequest,
  ): Promise<ReservationView[]> {
    return this.reservations.findByOrder(principal.tenantId, orderId);
  }
}
