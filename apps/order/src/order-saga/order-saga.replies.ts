import {
  EventEnvelope,
  InventoryReservedV1Payload,
  PaymentFailedV1Payload,
  PaymentSucceededV1Payload,
} from '@lib/contracts';
import { RejectionReason } from '@lib/messaging';
import { DEFAULT_TENANT } from '@lib/platform';
import { SagaTrigger, transitionFor } from './order-saga.state';
import { Saga } from './saga.entity';

/** A line the customer ordered: what a reservation must hold, exactly. */
export interface OrderedLine {
  sku: string;
  quantity: number;
}

/** The saga as the reply path loads it: with its order's lines when a reservation is to be checked. */
export type SagaRecord = Saga & { orderedLines?: OrderedLine[] };

export interface ReplyMismatch {
  reason: RejectionReason;
  detail: string;
}

/**
 * Whether a reply agrees with what the saga asked for, before it may move the saga: a reply of
 * another tenant (whatever the saga's state), a reservation of other lines, a payment of another
 * amount, currency or PaymentIntent than the one recorded is a mismatch (forged or corrupt), never
 * applied. Pure.
 */
export function checkReply(
  saga: SagaRecord,
  trigger: SagaTrigger,
  cause: EventEnvelope,
): ReplyMismatch | undefined {
  const tenant = cause.tenantId ?? DEFAULT_TENANT;
  if (tenant !== saga.tenantId) {
    return {
      reason: 'tenant',
      detail: `a reply of tenant ${tenant} to a saga of ${saga.tenantId}`,
    };
  }
  // A reply that would not move the saga is ignored as late or duplicate; checking it against a
  // record it predates (a payment before the amount is known) would cry wolf.
  if (!transitionFor(saga.state, trigger)) return undefined;
  switch (trigger) {
    case 'stock-reserved':
      return checkReservation(saga, cause.payload as InventoryReservedV1Payload);
    case 'payment-pending':
    case 'payment-succeeded':
      return checkPayment(saga, cause.payload as PaymentSucceededV1Payload);
    case 'payment-failed':
      return checkIntent(saga, (cause.payload as PaymentFailedV1Payload).paymentIntentId);
    // Nothing of the saga's record to compare with: the tenant is all there is to check.
    case 'out-of-stock':
    case 'stock-released':
    case 'stock-expired':
    case 'deadline':
    case 'customer-cancel':
    case 'operator-retry':
    case 'operator-cancel':
    case 'operator-resolve':
      return undefined;
  }
}

/** The PaymentIntent a payment reply makes the saga's, when it has none yet (the first it sees). */
export function intentToRecord(saga: Saga, trigger: SagaTrigger, cause: EventEnvelope) {
  if (saga.paymentIntentId || (trigger !== 'payment-pending' && trigger !== 'payment-succeeded'))
    return undefined;
  return (cause.payload as PaymentSucceededV1Payload).paymentIntentId;
}

function checkReservation(
  saga: SagaRecord,
  { lines, totalMinor, currency }: InventoryReservedV1Payload,
): ReplyMismatch | undefined {
  if (currency !== saga.currency) {
    return { reason: 'currency', detail: `reserved in ${currency}, ordered in ${saga.currency}` };
  }
  const ordered = lineKeys(saga.orderedLines ?? []);
  const reserved = lineKeys(lines);
  if (ordered !== reserved) {
    return { reason: 'lines', detail: `reserved ${reserved}, ordered ${ordered}` };
  }
  const sum = lines.reduce((total, line) => total + line.quantity * line.unitPriceMinor, 0);
  if (sum !== totalMinor) {
    return { reason: 'amount', detail: `a total of ${totalMinor} for lines worth ${sum}` };
  }
  return undefined;
}

function checkPayment(
  saga: Saga,
  { amountMinor, currency, paymentIntentId }: PaymentSucceededV1Payload,
): ReplyMismatch | undefined {
  if (amountMinor !== saga.amountMinor) {
    return { reason: 'amount', detail: `paid ${amountMinor}, requested ${saga.amountMinor}` };
  }
  if (currency !== saga.currency) {
    return { reason: 'currency', detail: `paid in ${currency}, requested in ${saga.currency}` };
  }
  return checkIntent(saga, paymentIntentId);
}

function checkIntent(saga: Saga, paymentIntentId: string | undefined): ReplyMismatch | undefined {
  if (!saga.paymentIntentId || !paymentIntentId || paymentIntentId === saga.paymentIntentId)
    return undefined;
  return {
    reason: 'payment-intent',
    detail: `PaymentIntent ${paymentIntentId}, the saga's is ${saga.paymentIntentId}`,
  };
}

/** The lines as one comparable string, whatever their order: `sku×quantity`, sorted. */
function lineKeys(lines: OrderedLine[]): string {
  return lines
    .map((line) => `${line.sku}×${line.quantity}`)
    .sort()
    .join(', ');
}
