/**
 * The order app's operator API (`/operator/sagas`) as its clients see it, and the payment and
 * reservation of an order as the console reads them: the CLI and the console type their calls
 * with these, the apps answer with them. Times are ISO 8601 strings, amounts
 * integer minor units. docs/operator-api.md describes each route with an example.
 */

/** What an operator can do to one saga; which of them a state allows is the saga's table. */
export const SAGA_ACTIONS = ['retry', 'cancel', 'resolve'] as const;
export type SagaAction = (typeof SAGA_ACTIONS)[number];

/** Filters of the list, the counts and the bulk actions; every one optional, all of them ANDed. */
export interface SagaFilter {
  /** A saga state, e.g. `FAILED`. */
  state?: string;
  /** Only with `tenants:all`; another tenant than the token's otherwise matches nothing. */
  tenantId?: string;
  /** Why it was cancelled or failed, e.g. `payment-timeout`. */
  reason?: string;
  customerId?: string;
  /** In its current state for at least this long (since its last transition). */
  olderThanMs?: number;
  /**
   * Not final and past its deadline (the deadline scanner has not moved it), or, with
   * `olderThanMs`, not final and in its state for at least that long.
   */
  stuck?: boolean;
}

/** One saga in a list, a search result or a bulk preview. */
export interface SagaSummary {
  /** @format uuid */
  sagaId: string;
  /** @format uuid */
  orderId: string;
  tenantId: string;
  customerId: string;
  state: string;
  /** Why it was cancelled or failed; null while nothing went wrong. */
  reason: string | null;
  /** @integer */
  version: number;
  /** @integer */
  amountMinor: number | null;
  currency: string;
  paymentIntentId: string | null;
  /** When the step it waits on times out; null in a final state. */
  deadlineAt: string | null;
  createdAt: string;
  /** Its last transition: how long it has been in `state`. */
  updatedAt: string;
}

export interface SagaPage {
  items: SagaSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last one. */
  nextCursor: string | null;
}

export interface SagaCounts {
  /** Every state, zero included, in the table's order; a capped one has at least `cap`. */
  states: Record<string, number>;
  /** The states with more sagas than `cap` (shown as "10000+"): counting stops there. */
  capped: string[];
  /** @integer */
  cap: number;
}

/** Which id of the saga a search matched. The correlation id of a saga is its order id. */
export type SagaIdKind = 'sagaId' | 'orderId' | 'customerId' | 'paymentIntentId';

export interface SagaSearch {
  /** Newest first, at most 50 (a customer's others: the list with `customerId`). */
  items: (SagaSummary & { matchedBy: SagaIdKind })[];
}

export interface SagaStepView {
  from: string | null;
  to: string;
  /** The subject of the event that caused it, or `deadline`, `customer-cancel`, `operator-retry`... */
  trigger: string;
  eventId: string | null;
  reason: string | null;
  at: string;
}

/** An audit record of an action on the saga or its order (placing, cancelling, operator actions). */
export interface SagaAuditView {
  at: string;
  actor: string;
  action: string;
  result: string;
  /** The operator's note, or an error code. */
  reason: string | null;
  details: unknown;
}

export interface SagaDetail extends SagaSummary {
  /** The conversation of the saga's events across ORDERS, INVENTORY and PAYMENTS (its order id). */
  correlationId: string;
  reservationId: string | null;
  /** The trace of the order, when tracing is on and stored one with the saga; null otherwise. */
  traceId: string | null;
  /** The step the saga waits on and its deadline; null in a final state. */
  waitingFor: { step: 'stock' | 'payment' | 'compensation'; deadlineAt: string | null } | null;
  /** The actions its state allows now. */
  actions: SagaAction[];
  order: {
    status: string;
    currency: string;
    /** @integer */
    totalMinor: number | null;
    lines: {
      sku: string;
      /** @integer */
      quantity: number;
      /** @integer */
      unitPriceMinor: number | null;
    }[];
    createdAt: string;
  };
  /** The step log, oldest first. */
  steps: SagaStepView[];
  /** Oldest first. */
  audit: SagaAuditView[];
}

/** The body of retry and cancel; resolve requires the note. */
export interface SagaActionBody {
  /** Why: kept in the audit record (never customer data). */
  note?: string;
}

export interface SagaActionResult {
  /** @format uuid */
  sagaId: string;
  /** @format uuid */
  orderId: string;
  action: SagaAction;
  /** The state before and after the action. */
  from: string;
  state: string;
  /** @integer */
  version: number;
  /** The event the action emitted (the re-emitted command, `order.cancelled`, `order.resolved`). */
  event: { eventId: string; subject: string };
}

export interface BulkSagaActionBody {
  action: SagaAction;
  /** `state` is required: a bulk action names the state it acts on. */
  filter: SagaFilter & { state: string };
  /** Count and list what would be acted on, change nothing. */
  dryRun?: boolean;
  /** At most this many sagas (1 to 500, default 100), oldest transition first. */
  limit?: number;
  note?: string;
}

export interface BulkSagaActionResult {
  action: SagaAction;
  dryRun: boolean;
  /**
   * The sagas of the filter in a state that allows the action, up to `limit`.
   * @integer
   */
  matched: number;
  /**
   * Those the action was applied to (0 in a dry run).
   * @integer
   */
  applied: number;
  /** The matched sagas, oldest transition first. */
  sagaIds: string[];
  /** Matched sagas another transition moved before the action could (not applied). */
  skipped: string[];
  /** More sagas match than `limit`: run it again for the next ones. */
  more: boolean;
}

/** An order's payment as the payment app answers operators, without the client secret. */
export interface PaymentView {
  orderId: string;
  paymentId: string;
  status: string;
  amountMinor: number;
  currency: string | null;
  paymentIntentId: string | null;
  failure: { reason: string; code: string | null; declineCode: string | null } | null;
}

/** An order's reservation (or the tombstone of an order cancelled before it was reserved). */
export interface ReservationView {
  reservationId: string;
  orderId: string;
  status: string;
  lines: { sku: string; quantity: number; unitPriceMinor: number }[];
  totalMinor: number;
  currency: string | null;
  expiresAt: string | null;
  releasedReason?: string;
}
