import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  createEvent,
  EventEnvelope,
  EventOrigin,
  InventoryCommittedV1,
  InventoryOutOfStockV1,
  InventoryReleasedV1,
  InventoryReservedV1,
  OrderCancelledV1Payload,
  OrderConfirmedV1Payload,
  OrderCreatedV1Payload,
  ReleaseReason,
} from '@lib/contracts';
import { Outbox, PermanentEventError, RejectedEventError } from '@lib/messaging';
import { traceContextOf } from '@lib/observability';
import { queryPrepared, WriteSet } from '@lib/persistence';
import { DEFAULT_TENANT } from '@lib/platform';
import { InventoryConfig } from '../config';
import { LockedProduct, StockLedger, StockLine } from '../products/stock.ledger';
import { decideReservation, STATUS_AFTER_RELEASE } from './reservation';
import { ReservationLine } from './reservation-line.entity';
import { Reservation } from './reservation.entity';

export interface ReservationView {
  /** @format uuid */
  reservationId: string;
  /** @format uuid */
  orderId: string;
  status: Reservation['status'];
  lines: {
    sku: string;
    /** @integer */
    quantity: number;
    /** @integer */
    unitPriceMinor: number;
  }[];
  /** @integer */
  totalMinor: number;
  currency: string | null;
  /** @format date-time */
  expiresAt: string | null;
  releasedReason?: ReleaseReason;
}

/**
 * Reservations and the stock they hold. Each change runs in the caller's transaction (the inbox's,
 * or a cleaner batch) and adds its events to the outbox; it returns them for the metrics.
 */
@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);
  private readonly tables: Record<'reservations' | 'lines', string>;
  /** A `LockedReservation` from reservations `r`: its lines come along, saving a round trip. */
  private readonly lockedColumns: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly stock: StockLedger,
    private readonly config: InventoryConfig,
  ) {
    this.tables = {
      reservations: dataSource.getMetadata(Reservation).tablePath,
      lines: dataSource.getMetadata(ReservationLine).tablePath,
    };
    this.lockedColumns = `r.id, r.order_id AS "orderId", r.status,
      r.correlation_id AS "correlationId", r.saga_id AS "sagaId", r.tenant_id AS "tenantId",
      r.total_minor::float8 AS "totalMinor", r.currency,
      coalesce((SELECT json_agg(
          json_build_object('tenantId', l.tenant_id, 'sku', l.sku, 'quantity', l.quantity))
        FROM ${this.tables.lines} l WHERE l.reservation_id = r.id), '[]') AS lines`;
  }

  /**
   * order.created, for a batch of orders in one transaction: each order in turn gets every line at
   * its tenant's catalogue price, or nothing and the missing lines. An order that already has a
   * reservation (or a tombstone) gets nothing new; one still held is answered again (see
   * `reservedAgain`).
   */
  async reserve(
    manager: EntityManager,
    events: EventEnvelope<OrderCreatedV1Payload>[],
  ): Promise<EventEnvelope[]> {
    const existing = await this.lockFor(manager, events);
    for (const { orderId, status } of existing.values()) {
      this.logger.log({
        msg: 'order already has a reservation, nothing reserved',
        orderId,
        status,
      });
    }
    const again = await this.reservedAgain(manager, events, existing);
    const fresh = events.filter((event) => !existing.has(event.payload.orderId));
    if (fresh.length === 0) return this.publish(manager, new WriteSet(), again);
    // One lock for the whole batch, whatever tenants its orders are of.
    const products = await this.stock.lock(
      manager,
      fresh.flatMap((event) =>
        event.payload.items.map(({ sku }) => ({ tenantId: tenantOf(event), sku })),
      ),
    );
    const writes = new WriteSet();
    const reservations: NewReservation[] = [];
    const published: EventEnvelope[] = [...again];
    for (const event of fresh) {
      const { orderId, currency, items } = event.payload;
      const tenantId = tenantOf(event);
      const origin = { cause: event, tenantId };
      // Decided against the stock the orders before it in the batch left; another tenant's
      // product of the same SKU is not in the catalogue.
      const catalogue = products.filter((product) => product.tenantId === tenantId);
      const decision = decideReservation(items, currency, catalogue);
      if (decision.kind === 'out-of-stock') {
        const { missing } = decision;
        this.logger.log({ msg: 'out of stock', orderId, tenantId, missing });
        published.push(createEvent(InventoryOutOfStockV1, { orderId, missing }, origin));
        continue;
      }
      const { lines, totalMinor } = decision;
      if (!Number.isSafeInteger(totalMinor)) {
        throw new PermanentEventError(`order ${orderId} costs more than a JSON number can hold`);
      }
      const held = lines.map((line) => ({ ...line, tenantId }));
      const alerts = this.stock.move(products, held, 'reserve', origin);
      const reservationId = randomUUID();
      const expiresAt = new Date(Date.now() + this.config.RESERVATION_TTL_MS);
      reservations.push({
        id: reservationId,
        orderId,
        status: 'ACTIVE',
        currency,
        totalMinor,
        expiresAt,
        lines: held,
        cause: event,
      });
      this.logger.log({ msg: 'stock reserved', orderId, reservationId, totalMinor });
      published.push(
        createEvent(
          InventoryReservedV1,
          {
            orderId,
            reservationId,
            lines,
            totalMinor,
            currency,
            expiresAt: expiresAt.toISOString(),
          },
          origin,
        ),
        ...alerts,
      );
    }
    // A racing order.cancelled may have written its tombstone meanwhile: the unique order_id then
    // fails this transaction, and the retry finds the tombstone.
    this.insert(this.stock.write(products, writes), reservations);
    return this.publish(manager, writes, published);
  }

  /**
   * order.cancelled, for a batch of orders: an active reservation gives its stock back; one a cancel
   * released already is confirmed again (a second order.cancelled is an operator's retry of a
   * compensation whose confirmation was lost, or the saga's after a late payment); other states
   * stay as they are.
   */
  async cancel(
    manager: EntityManager,
    events: EventEnvelope<OrderCancelledV1Payload>[],
  ): Promise<EventEnvelope[]> {
    const found = await this.lockFor(manager, events);
    const releasing: HeldReservation[] = [];
    const tombstones: NewReservation[] = [];
    const again: EventEnvelope[] = [];
    for (const event of events) {
      const { orderId } = event.payload;
      const reservation = found.get(orderId);
      if (reservation?.status === 'ACTIVE') {
        releasing.push({ reservation, cause: event });
      } else if (reservation?.status === 'RELEASED') {
        this.logger.log({ msg: 'order cancelled again, release confirmed again', orderId });
        const { id: reservationId } = reservation;
        again.push(
          createEvent(
            InventoryReleasedV1,
            { orderId, reservationId, reason: 'cancelled' },
            originOf(reservation, event),
          ),
        );
      } else if (reservation) {
        this.logger.log({
          msg: 'order cancelled, nothing to release',
          orderId,
          status: reservation.status,
        });
      } else {
        // Each subject has its own consumer, so order.created may still be on its way: this
        // tombstone makes it reserve nothing. A racing reservation fails this insert on order_id,
        // and the retry releases it.
        this.logger.log({
          msg: 'order cancelled before any reservation, tombstone written',
          orderId,
        });
        tombstones.push({
          id: randomUUID(),
          orderId,
          status: 'CANCELLED',
          currency: null,
          totalMinor: 0,
          expiresAt: null,
          lines: [],
          cause: event,
        });
      }
    }
    const writes = this.outbox.addTo(this.insert(new WriteSet(), tombstones), again);
    return [...again, ...(await this.release(manager, releasing, 'cancelled', writes))];
  }

  /**
   * The reservations still held for orders whose order.created comes again, answered again as
   * reserved, unchanged. Redeliveries never get here (the inbox stops them): a second order.created
   * is an operator's retry of the stock step, for a saga that lost the first answer.
   */
  private async reservedAgain(
    manager: EntityManager,
    events: EventEnvelope<OrderCreatedV1Payload>[],
    existing: Map<string, LockedReservation>,
  ): Promise<EventEnvelope[]> {
    const held = events.flatMap((event) => {
      const reservation = existing.get(event.payload.orderId);
      return reservation?.status === 'ACTIVE' ? [{ reservation, cause: event }] : [];
    });
    if (held.length === 0) return [];
    const rows = await manager.query<
      {
        id: string;
        expiresAt: Date;
        lines: { sku: string; quantity: number; unitPriceMinor: number }[];
      }[]
    >(
      `SELECT r.id, r.expires_at AS "expiresAt", json_agg(json_build_object('sku', l.sku,
          'quantity', l.quantity, 'unitPriceMinor', l.unit_price_minor) ORDER BY l.sku) AS lines
        FROM ${this.tables.reservations} r JOIN ${this.tables.lines} l ON l.reservation_id = r.id
        WHERE r.id = ANY($1::uuid[]) GROUP BY r.id`,
      [held.map(({ reservation }) => reservation.id)],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return held.map(({ reservation, cause }) => {
      const { id: reservationId, orderId, totalMinor, currency } = reservation;
      const { lines, expiresAt } = byId.get(reservationId)!;
      this.logger.log({ msg: 'order created again, reservation answered again', orderId });
      return createEvent(
        InventoryReservedV1,
        {
          orderId,
          reservationId,
          lines,
          totalMinor,
          currency: currency ?? cause.payload.currency,
          expiresAt: expiresAt.toISOString(),
        },
        originOf(reservation, cause),
      );
    });
  }

  /** order.confirmed, for a batch of orders: the reserved stock is sold. */
  async commit(
    manager: EntityManager,
    events: EventEnvelope<OrderConfirmedV1Payload>[],
  ): Promise<EventEnvelope[]> {
    const found = await this.lockFor(manager, events);
    const committing: HeldReservation[] = [];
    for (const event of events) {
      const { orderId } = event.payload;
      const reservation = found.get(orderId);
      // The saga confirms only after inventory.reserved, which commits with the reservation.
      if (!reservation) {
        throw new RejectedEventError('unknown-order', `order ${orderId} has no reservation`, {
          orderId,
        });
      }
      const { id: reservationId, status, totalMinor, currency } = reservation;
      // The saga confirms what inventory priced: another amount is not this reservation's order.
      const { amountMinor: confirmed, currency: confirmedIn } = event.payload;
      if (confirmed !== totalMinor || confirmedIn !== currency) {
        throw new RejectedEventError(
          confirmed !== totalMinor ? 'amount' : 'currency',
          `order ${orderId} confirmed for ${confirmed} ${confirmedIn}, reserved for ${totalMinor} ${currency}`,
          { orderId, reservationId },
        );
      }
      if (status === 'ACTIVE') committing.push({ reservation, cause: event });
      else if (status !== 'COMMITTED') {
        // Its stock is back on the shelf and may be sold again: the saga compensates the order.
        this.logger.warn({
          msg: 'order confirmed after its reservation ended, nothing committed',
          orderId,
          reservationId,
          status,
        });
      }
    }
    if (committing.length === 0) return [];
    const products = await this.lockStockOf(manager, committing);
    const writes = new WriteSet();
    const published: EventEnvelope[] = [];
    for (const { reservation, cause } of committing) {
      const { id: reservationId, orderId } = reservation;
      const origin = originOf(reservation, cause);
      const alerts = this.stock.move(products, reservation.lines, 'commit', origin);
      this.logger.log({ msg: 'reservation committed', orderId, reservationId });
      published.push(
        createEvent(InventoryCommittedV1, { orderId, reservationId }, origin),
        ...alerts,
      );
    }
    const ids = committing.map(({ reservation }) => reservation.id);
    this.stock.write(products, writes).add(
      (p) => `UPDATE ${this.tables.reservations} SET status = 'COMMITTED', updated_at = now()
        WHERE id = ANY(${p.add(ids)}::uuid[])`,
    );
    return this.publish(manager, writes, published);
  }

  /**
   * Gives the stock of locked, active reservations back to their tenants' products and publishes
   * inventory.released for each, together with `writes`. Without a cause (the cleaner) an event
   * joins the conversation stored with its reservation.
   */
  async release(
    manager: EntityManager,
    releasing: HeldReservation[],
    reason: ReleaseReason,
    writes = new WriteSet(),
  ): Promise<EventEnvelope[]> {
    const products = await this.lockStockOf(manager, releasing);
    const published: EventEnvelope[] = [];
    for (const { reservation, cause } of releasing) {
      const { id: reservationId, orderId, correlationId, sagaId, tenantId } = reservation;
      const origin = originOf(reservation, cause);
      // A release only raises `available`: it can re-arm low-stock alerts but never raise one.
      this.stock.move(products, reservation.lines, 'release', origin);
      // Logged with the ids: the cleaner runs outside any event's log context.
      this.logger.log({
        msg: 'reservation released',
        orderId,
        reservationId,
        reason,
        correlationId,
        sagaId,
        tenantId,
      });
      published.push(createEvent(InventoryReleasedV1, { orderId, reservationId, reason }, origin));
    }
    if (releasing.length > 0) {
      const ids = releasing.map(({ reservation }) => reservation.id);
      this.stock.write(products, writes).add(
        (p) => `UPDATE ${this.tables.reservations}
          SET status = ${p.add(STATUS_AFTER_RELEASE[reason])}::text,
            released_reason = ${p.add(reason)}::text, updated_at = now()
          WHERE id = ANY(${p.add(ids)}::uuid[])`,
      );
    }
    return this.publish(manager, writes, published);
  }

  /**
   * Active reservations whose TTL has run out, of every tenant, with their lines and the trace of
   * their order, locked; those another instance holds are skipped, so no reservation expires twice.
   */
  lockExpired(
    manager: EntityManager,
    limit: number,
  ): Promise<(LockedReservation & Pick<Reservation, 'traceContext'>)[]> {
    return queryPrepared(
      manager,
      `SELECT ${this.lockedColumns}, r.trace_context AS "traceContext"
        FROM ${this.tables.reservations} r
        WHERE status = 'ACTIVE' AND expires_at <= now()
        ORDER BY expires_at LIMIT $1 FOR UPDATE OF r SKIP LOCKED`,
      [limit],
    );
  }

  /** The tenant's reservation of an order: none when the order is another tenant's. */
  async findByOrder(tenantId: string, orderId: string): Promise<ReservationView[]> {
    const reservations = await this.dataSource.getRepository(Reservation).find({
      where: { tenantId, orderId },
      relations: { lines: true },
      order: { createdAt: 'ASC', lines: { sku: 'ASC' } },
    });
    return reservations.map((reservation) => ({
      reservationId: reservation.id,
      orderId: reservation.orderId,
      status: reservation.status,
      lines: reservation.lines.map(({ sku, quantity, unitPriceMinor }) => ({
        sku,
        quantity,
        unitPriceMinor,
      })),
      totalMinor: reservation.totalMinor,
      currency: reservation.currency,
      expiresAt: reservation.expiresAt?.toISOString() ?? null,
      ...(reservation.releasedReason ? { releasedReason: reservation.releasedReason } : {}),
    }));
  }

  /**
   * The reservations of these events' orders with their lines, locked in order id order: cancel,
   * confirm and the cleaner take a reservation row first, so they apply one at a time and never
   * deadlock. A reservation is its order's tenant's and its saga's: an event of another tenant or
   * saga naming the order is refused (dead-lettered, alerted on), never applied to it.
   */
  private async lockFor(
    manager: EntityManager,
    events: OrderEvent[],
  ): Promise<Map<string, LockedReservation>> {
    const locked: LockedReservation[] = await queryPrepared(
      manager,
      `SELECT ${this.lockedColumns} FROM ${this.tables.reservations} r
        WHERE order_id = ANY($1::uuid[]) ORDER BY order_id FOR UPDATE OF r`,
      [events.map((event) => event.payload.orderId)],
    );
    const found = new Map(locked.map((reservation) => [reservation.orderId, reservation]));
    for (const event of events) {
      const { orderId } = event.payload;
      const reservation = found.get(orderId);
      if (!reservation) continue;
      const context = { orderId, reservationId: reservation.id, sagaId: reservation.sagaId };
      if (reservation.tenantId !== tenantOf(event)) {
        throw new RejectedEventError(
          'tenant',
          `order ${orderId} of tenant ${reservation.tenantId} named by an event of ${tenantOf(event)}`,
          context,
        );
      }
      if (reservation.sagaId && event.sagaId !== reservation.sagaId) {
        throw new RejectedEventError(
          'saga',
          `order ${orderId} of saga ${reservation.sagaId} named by an event of saga ${event.sagaId ?? 'none'}`,
          context,
        );
      }
    }
    return found;
  }

  /** The products the lines of these reservations hold, locked (see `StockLedger.lock`). */
  private lockStockOf(manager: EntityManager, held: HeldReservation[]): Promise<LockedProduct[]> {
    return this.stock.lock(
      manager,
      held.flatMap(({ reservation }) => reservation.lines),
    );
  }

  /** Reservations (and tombstones), with their lines, each in the conversation of its cause. */
  private insert(writes: WriteSet, reservations: NewReservation[]): WriteSet {
    if (reservations.length === 0) return writes;
    const lines = reservations.flatMap(({ id, lines }) =>
      lines.map((line) => ({ ...line, reservationId: id })),
    );
    const conversations = reservations.map(({ cause }) => conversationOf(cause));
    writes.add(
      (p) => `INSERT INTO ${this.tables.reservations}
        (id, order_id, status, currency, total_minor, expires_at, correlation_id, saga_id, tenant_id,
          trace_context)
        SELECT * FROM unnest(${p.array(reservations, (r) => r.id, 'uuid')},
          ${p.array(reservations, (r) => r.orderId, 'uuid')}, ${p.array(reservations, (r) => r.status, 'text')},
          ${p.array(reservations, (r) => r.currency, 'text')}, ${p.array(reservations, (r) => r.totalMinor, 'bigint')},
          ${p.array(reservations, (r) => r.expiresAt, 'timestamptz')},
          ${p.array(conversations, (c) => c.correlationId, 'text')},
          ${p.array(conversations, (c) => c.sagaId, 'text')}, ${p.array(conversations, (c) => c.tenantId, 'text')},
          ${p.array(reservations, (r) => traceContextOf(r.cause), 'jsonb')})`,
    );
    if (lines.length === 0) return writes;
    return writes.add(
      (p) => `INSERT INTO ${this.tables.lines}
          (reservation_id, tenant_id, sku, quantity, unit_price_minor)
        SELECT * FROM unnest(${p.array(lines, (l) => l.reservationId, 'uuid')},
          ${p.array(lines, (l) => l.tenantId, 'text')},
          ${p.array(lines, (l) => l.sku, 'text')}, ${p.array(lines, (l) => l.quantity, 'int')},
          ${p.array(lines, (l) => l.unitPriceMinor, 'bigint')})`,
    );
  }

  /** Sends the transaction's writes with its events in the outbox, in one statement. */
  private async publish(
    manager: EntityManager,
    writes: WriteSet,
    events: EventEnvelope[],
  ): Promise<EventEnvelope[]> {
    await this.outbox.addTo(writes, events).run(manager);
    return events;
  }
}

/** What the hot paths read of a reservation: enough to release it and to speak for it. */
export type LockedReservation = Pick<
  Reservation,
  'id' | 'orderId' | 'status' | 'correlationId' | 'sagaId' | 'tenantId' | 'totalMinor' | 'currency'
> & { lines: StockLine[] };

/** A locked reservation and the event that acts on it (none when the cleaner expires it). */
interface HeldReservation {
  reservation: LockedReservation;
  cause?: EventEnvelope;
}

/** A reservation or tombstone to insert, with the event that made it. */
type NewReservation = Pick<
  Reservation,
  'id' | 'orderId' | 'status' | 'currency' | 'totalMinor' | 'expiresAt'
> & {
  lines: (StockLine & { unitPriceMinor: number })[];
  cause: EventEnvelope;
};

type OrderEvent = EventEnvelope<{ orderId: string }>;

/** The tenant an order event speaks for: the default one when it names none. */
function tenantOf(event: EventEnvelope): string {
  return event.tenantId ?? DEFAULT_TENANT;
}

/** Stored with the reservation, for the events the cleaner publishes with no event as cause. */
function conversationOf(
  event: EventEnvelope,
): Pick<Reservation, 'correlationId' | 'sagaId' | 'tenantId'> {
  return {
    correlationId: event.correlationId,
    sagaId: event.sagaId ?? null,
    tenantId: tenantOf(event),
  };
}

/**
 * Where an event about a reservation belongs: its cause's conversation, or without one (the
 * cleaner) that of the order.created stored with it; always in the reservation's tenant.
 */
function originOf(reservation: LockedReservation, cause?: EventEnvelope): EventOrigin {
  const { correlationId, sagaId, tenantId } = reservation;
  return cause ? { cause, tenantId } : { correlationId, sagaId: sagaId ?? undefined, tenantId };
}
