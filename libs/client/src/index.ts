export * from './saga-client';
export type * as InventoryDocument from './generated/inventory';
export type * as OrderDocument from './generated/order';
export type * as PaymentDocument from './generated/payment';
export type * as TradingDocument from './generated/trading';
