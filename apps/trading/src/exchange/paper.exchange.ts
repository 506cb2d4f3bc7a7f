import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TradingConfig } from '../config';
import {
  ExchangeAck,
  ExchangeConnector,
  ExchangeFill,
  ExchangeOrderRequest,
} from './exchange.connector';
import { PaperExchangeOrder } from './paper-exchange-order.entity';

/**
 * Simulated venue: fills at the feed price moved by the slippage, in `PAPER_FILL_PARTS` parts, one
 * every `PAPER_LATENCY_MS` after acceptance. Its book is a table, so submissions are idempotent
 * on the client order id across every instance, as on a real exchange.
 */
@Injectable()
export class PaperExchange implements ExchangeConnector {
  private readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: TradingConfig,
  ) {
    this.table = dataSource.getMetadata(PaperExchangeOrder).tablePath;
  }

  async submit(order: ExchangeOrderRequest): Promise<ExchangeAck> {
    const { clientOrderId, symbol, side, quantity, referencePrice } = order;
    const slippage = (this.config.PAPER_SLIPPAGE_BPS / 10_000) * (side === 'buy' ? 1 : -1);
    const rejected =
      quantity > this.config.PAPER_MAX_ORDER_QTY
        ? `quantity ${quantity} is above the venue's limit of ${this.config.PAPER_MAX_ORDER_QTY}`
        : null;
    const [row] = await this.dataSource.query<{ rejected_reason: string | null }[]>(
      `INSERT INTO ${this.table}
         (client_order_id, symbol, side, quantity, fill_price, rejected_reason, fill_parts, latency_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (client_order_id) DO UPDATE SET submissions = ${this.table}.submissions + 1
       RETURNING rejected_reason`,
      [
        clientOrderId,
        symbol,
        side,
        quantity,
        Math.round(referencePrice * (1 + slippage) * 10_000) / 10_000,
        rejected,
        Math.min(this.config.PAPER_FILL_PARTS, quantity),
        this.config.PAPER_LATENCY_MS,
      ],
    );
    const reason = row?.rejected_reason;
    return reason ? { accepted: false, reason } : { accepted: true };
  }

  async fills(clientOrderId: string): Promise<ExchangeFill[]> {
    const [row] = await this.dataSource.query<(PaperOrderRow & { now: Date })[]>(
      `SELECT quantity, fill_price, fill_parts, latency_ms, accepted_at, cancelled_at,
              rejected_reason, clock_timestamp() AS now
         FROM ${this.table} WHERE client_order_id = $1`,
      [clientOrderId],
    );
    if (!row || row.rejected_reason) return [];
    const until = Math.min(row.now.getTime(), row.cancelled_at?.getTime() ?? Infinity);
    const fills: ExchangeFill[] = [];
    for (let part = 1; part <= row.fill_parts; part++) {
      if (row.accepted_at.getTime() + part * row.latency_ms > until) break;
      fills.push({
        fillId: `${clientOrderId}:${part}`,
        quantity: partQuantity(row.quantity, row.fill_parts, part),
        price: row.fill_price,
      });
    }
    return fills;
  }

  async cancel(clientOrderId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.table} SET cancelled_at = clock_timestamp()
        WHERE client_order_id = $1 AND cancelled_at IS NULL`,
      [clientOrderId],
    );
  }
}

interface PaperOrderRow {
  quantity: number;
  fill_price: number;
  fill_parts: number;
  latency_ms: number;
  accepted_at: Date;
  cancelled_at: Date | null;
  rejected_reason: string | null;
}

/** Splits `quantity` into `parts` whole fills; the first ones take the remainder. */
function partQuantity(quantity: number, parts: number, part: number): number {
  return Math.floor(quantity / parts) + (part <= quantity % parts ? 1 : 0);
}
