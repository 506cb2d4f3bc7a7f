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
import { Outbox, PermanentEventError } from '@lib/messaging';
import { queryPrepared, WriteSet } from '@lib/persistence';
import { InventoryConfig } from '../config';
import { StockLedger } from '../products/stock.ledger';
import { decideReservation, STATUS_AFTER_RELEASE } from './reservation';
import { ReservationLine } from './reservation-line.entity';
import { Reservation } from './reservation.entity';

export interface ReservationView {
  reservationId: string;
  orderId: string;
  status: Reservation['status'];
  lines: { sku: string; quantity: number; unitPriceMinor: number }[];
  totalMinor: number;
  currency: string | null;
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
  }

  /** order.created: every line held at its catalogue price, or nothing and the missing lines. */
  async reserve(
    manager: EntityManager,
    event: EventEnvelope<OrderCreatedV1Payload>,
  ): Promise<EventEnvelope[]> {
    const { orderId, currency, items } = event.payload;
    const [existing] = await this.find(manager, orderId);
    if (existing) {
      this.logger.log({
        msg: 'order already has a reservation, nothing reserved',
        orderId,
        status: existing.status,
      });
      return [];
    }
    const products = await this.stock.lock(
      manager,
      items.map((item) => item.sku),
    );
    const decision = decideReservation(items, currency, products);
    if (decision.kind === 'out-of-stock') {
      const { missing } = decision;
      this.logger.log({ msg: 'out of stock', orderId, missing });
      const outOfStock = createEvent(InventoryOutOfStockV1, { orderId, missing }, { cause: event });
      await this.outbox.add(manager, [outOfStock]);
      return [outOfStock];
    }
    const { lines, totalMinor } = decision;
    if (!Number.isSafeInteger(totalMinor)) {
      throw new PermanentEventError(`order ${orderId} costs more than a JSON number can hold`);
    }
    const writes = new WriteSet();
    const alerts = this.stock.move(products, lines, 'reserve', { cause: event }, writes);
    const reservationId = randomUUID();
    const expiresAt = new Date(Date.now() + this.config.RESERVATION_TTL_MS);
    // A racing order.cancelled may have written its tombstone meanwhile: the unique order_id then
    // fails this transaction, and the retry finds the tombstone.
    this.insert(
      writes,
      { id: reservationId, orderId, status: 'ACTIVE', currency, totalMinor, expiresAt },
      event,
    );
    writes.add(
      (p) => `INSERT INTO ${this.tables.lines} (reservation_id, sku, quantity, unit_price_minor)
        SELECT ${p.add(reservationId)}::uuid, * FROM unnest(${p.array(lines, (l) => l.sku, 'text')},
          ${p.array(lines, (l) => l.quantity, 'int')}, ${p.array(lines, (l) => l.unitPriceMinor, 'bigint')})`,
    );
    this.logger.log({ msg: 'stock reserved', orderId, reservationId, totalMinor });
    const reserved = createEvent(
      InventoryReservedV1,
      { orderId, reservationId, lines, totalMinor, currency, expiresAt: expiresAt.toISOString() },
      { cause: event },
    );
    return this.publish(manager, writes, [reserved, ...alerts]);
  }

  /** order.cancelled: an active reservation gives its stock back; other states stay as they are. */
  async cancel(
    manager: EntityManager,
    event: EventEnvelope<OrderCancelledV1Payload>,
  ): Promise<EventEnvelope[]> {
    const { orderId } = event.payload;
    const reservation = await this.lockFor(manager, orderId);
    if (!reservation) {
      // Each subject has its own consumer, so order.created may still be on its way: this
      // tombstone makes it reserve nothing. A racing reservation fails this insert on order_id,
      // and the retry releases it.
      await this.insert(
        new WriteSet(),
        {
          id: randomUUID(),
          orderId,
          status: 'CANCELLED',
          currency: null,
          totalMinor: 0,
          expiresAt: null,
        },
        event,
      ).run(manager);
      this.logger.log({
        msg: 'order cancelled before any reservation, tombstone written',
        orderId,
      });
      return [];
    }
    if (reservation.status !== 'ACTIVE') {
      this.logger.log({
        msg: 'order cancelled, nothing to release',
        orderId,
        status: reservation.status,
      });
      return [];
    }
    return this.release(manager, [reservation], 'cancelled', event);
  }

  /** order.confirmed: the reserved stock is sold. */
  async commit(
    manager: EntityManager,
    event: EventEnvelope<OrderConfirmedV1Payload>,
  ): Promise<EventEnvelope[]> {
    const { orderId } = event.payload;
    const reservation = await this.lockFor(manager, orderId);
    // The saga confirms only after inventory.reserved, which commits with the reservation.
    if (!reservation) throw new PermanentEventError(`order ${orderId} has no reservation`);
    const { id: reservationId, status } = reservation;
    if (status === 'COMMITTED') return [];
    if (status !== 'ACTIVE') {
      // Its stock is back on the shelf and may be sold again: the saga compensates the order.
      this.logger.warn({
        msg: 'order confirmed after its reservation ended, nothing committed',
        orderId,
        reservationId,
        status,
      });
      return [];
    }
    const lines = await this.linesOf(manager, [reservationId]);
    const products = await this.stock.lock(
      manager,
      lines.map((line) => line.sku),
    );
    const writes = new WriteSet();
    const alerts = this.stock.move(products, lines, 'commit', { cause: event }, writes);
    writes.add(
      (p) => `UPDATE ${this.tables.reservations} SET status = 'COMMITTED', updated_at = now()
        WHERE id = ${p.add(reservationId)}::uuid`,
    );
    this.logger.log({ msg: 'reservation committed', orderId, reservationId });
    return this.publish(manager, writes, [
      createEvent(InventoryCommittedV1, { orderId, reservationId }, { cause: event }),
      ...alerts,
    ]);
  }

  /**
   * Gives the stock of locked, active reservations back and publishes inventory.released for each.
   * Without a cause (the cleaner) the events join the conversation stored with each reservation.
   */
  async release(
    manager: EntityManager,
    reservations: LockedReservation[],
    reason: ReleaseReason,
    cause?: EventEnvelope,
  ): Promise<EventEnvelope[]> {
    const ids = reservations.map((reservation) => reservation.id);
    const lines = await this.linesOf(manager, ids);
    const products = await this.stock.lock(
      manager,
      lines.map((line) => line.sku),
    );
    const writes = new WriteSet();
    // A release only raises `available`: it can re-arm low-stock alerts but never raise one.
    const alerts = this.stock.move(products, lines, 'release', { cause }, writes);
    writes.add(
      (p) => `UPDATE ${this.tables.reservations}
        SET status = ${p.add(STATUS_AFTER_RELEASE[reason])}::text,
          released_reason = ${p.add(reason)}::text, updated_at = now()
        WHERE id = ANY(${p.add(ids)}::uuid[])`,
    );
    const released = reservations.map((reservation) => {
      const { id: reservationId, orderId, correlationId, sagaId } = reservation;
      // Logged with the ids: the cleaner runs outside any event's log context.
      this.logger.log({
        msg: 'reservation released',
        orderId,
        reservationId,
        reason,
        correlationId,
        sagaId,
      });
      const origin = cause ? { cause } : storedOrigin(reservation);
      return createEvent(InventoryReleasedV1, { orderId, reservationId, reason }, origin);
    });
    return this.publish(manager, writes, [...released, ...alerts]);
  }

  async findByOrder(orderId: string): Promise<ReservationView[]> {
    const reservations = await this.dataSource.getRepository(Reservation).find({
      where: { orderId },
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

  /** Cancel, confirm and the cleaner take the reservation row first, so they apply one at a time. */
  private async lockFor(
    manager: EntityManager,
    orderId: string,
  ): Promise<LockedReservation | undefined> {
    return (await this.find(manager, orderId, 'FOR UPDATE'))[0];
  }

  private find(manager: EntityManager, orderId: string, lock = ''): Promise<LockedReservation[]> {
    return queryPrepared(
      manager,
      `SELECT id, order_id AS "orderId", status, correlation_id AS "correlationId",
          saga_id AS "sagaId", tenant_id AS "tenantId"
        FROM ${this.tables.reservations} WHERE order_id = $1 ${lock}`,
      [orderId],
    );
  }

  private linesOf(
    manager: EntityManager,
    reservationIds: string[],
  ): Promise<{ sku: string; quantity: number }[]> {
    return queryPrepared(
      manager,
      `SELECT sku, quantity FROM ${this.tables.lines} WHERE reservation_id = ANY($1::uuid[])`,
      [reservationIds],
    );
  }

  /** A reservation (or a tombstone) in the conversation of the event that made it. */
  private insert(
    writes: WriteSet,
    reservation: Pick<
      Reservation,
      'id' | 'orderId' | 'status' | 'currency' | 'totalMinor' | 'expiresAt'
    >,
    event: EventEnvelope,
  ): WriteSet {
    const { correlationId, sagaId, tenantId } = conversationOf(event);
    return writes.add(
      (p) => `INSERT INTO ${this.tables.reservations}
        (id, order_id, status, currency, total_minor, expires_at, correlation_id, saga_id, tenant_id)
        VALUES (${p.add(reservation.id)}::uuid, ${p.add(reservation.orderId)}::uuid,
          ${p.add(reservation.status)}::text, ${p.add(reservation.currency)}::text,
          ${p.add(reservation.totalMinor)}::bigint, ${p.add(reservation.expiresAt)}::timestamptz,
          ${p.add(correlationId)}::text, ${p.add(sagaId)}::text, ${p.add(tenantId)}::text)`,
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
type LockedReservation = Pick<
  Reservation,
  'id' | 'orderId' | 'status' | 'correlationId' | 'sagaId' | 'tenantId'
>;

/** Stored with the reservation, for the events the cleaner publishes with no event as cause. */
function conversationOf(
  event: EventEnvelope,
): Pick<Reservation, 'correlationId' | 'sagaId' | 'tenantId'> {
  return {
    correlationId: event.correlationId,
    sagaId: event.sagaId ?? null,
    tenantId: event.tenantId ?? null,
  };
}

/** The conversation of the order.created that made the reservation. */
function storedOrigin(reservation: LockedReservation): EventOrigin {
  return {
    correlationId: reservation.correlationId,
    sagaId: reservation.sagaId ?? undefined,
    tenantId: reservation.tenantId ?? undefined,
  };
}
