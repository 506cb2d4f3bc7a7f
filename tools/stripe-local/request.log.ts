import { FaultKind } from './api.faults';

export interface RequestRecord {
  method: string;
  path: string;
  idempotencyKey: string | null;
  /** null when the call was left hanging (`timeout` fault). */
  status: number | null;
  replayed: boolean;
  fault: FaultKind | null;
  at: string;
}

/** The API calls received, so tests can assert retries and idempotency keys. */
export class RequestLog {
  private readonly records: RequestRecord[] = [];

  add(record: Omit<RequestRecord, 'at'>): void {
    this.records.push({ ...record, at: new Date().toISOString() });
  }

  list(): RequestRecord[] {
    return this.records.map((record) => ({ ...record }));
  }

  clear(): void {
    this.records.length = 0;
  }
}
