export type FaultKind = 'api_error' | 'timeout';
export const FAULT_KINDS: readonly FaultKind[] = ['api_error', 'timeout'];

export interface Fault {
  kind: FaultKind;
  /** API calls still to fail; null until reset. */
  remaining: number | null;
}

/** Stripe being down on demand: the next N API calls (or all, until cleared) fail one way. */
export class ApiFaults {
  private fault: Fault | undefined;

  set(kind: FaultKind, count: number | null): Fault {
    this.fault = { kind, remaining: count };
    return { ...this.fault };
  }

  clear(): void {
    this.fault = undefined;
  }

  current(): Fault | null {
    return this.fault ? { ...this.fault } : null;
  }

  /** The fault for this call, if any, counted against the remaining ones. */
  take(): FaultKind | undefined {
    const fault = this.fault;
    if (!fault) return undefined;
    if (fault.remaining !== null && --fault.remaining === 0) this.fault = undefined;
    return fault.kind;
  }
}
