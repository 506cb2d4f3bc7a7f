import { IsIn, IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';

export const RELEASE_REASONS = ['cancelled', 'expired'] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

/** A reservation's stock went back on the shelf: the order was cancelled, or the TTL ran out. */
export class InventoryReleasedV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() reservationId: string;
  @IsIn(RELEASE_REASONS) reason: ReleaseReason;
}

export const InventoryReleasedV1 = defineEvent('inventory.released', 1, InventoryReleasedV1Payload);
