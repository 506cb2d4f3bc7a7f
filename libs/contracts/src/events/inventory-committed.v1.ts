import { IsUUID } from 'class-validator';
import { defineEvent } from '../envelope';

/** The reserved stock is sold. */
export class InventoryCommittedV1Payload {
  @IsUUID() orderId: string;
  @IsUUID() reservationId: string;
}

export const InventoryCommittedV1 = defineEvent(
  'inventory.committed',
  1,
  InventoryCommittedV1Payload,
);
