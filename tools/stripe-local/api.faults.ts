export type FaultKind = 'api_error' | 'timeout' | 'rate_limit';
export const FAULT_KINDS: readonly FaultKind[] = ['api_error', 'timeout', 'rate_limit'];

export interface Fault {
  kind: FaultKind;
  /** API calls still to fail; null until reset. */
  remaining: number | null;
  /** Only calls to this path fail (`*` stands for one segment, an id); null: every call. */
  path: string | null;
}

/**
 * Stripe being down on demand: the next N API calls (or all, until cleared) fail one way, every
 * call or only the calls to one path (the refunds endpoint, any intent's cancel).
 */
export class ApiFaults {
  private fault: Fault | undefined;
  private pathPattern: RegExp | undefined;

  set(kind: FaultKind, count: number | null, path: string | null = null): Fault {
    this.fault = { kind, remaining: count, path };
    this.pathPattern = path === null ? undefined : pathPattern(path);
    return { ...this.fault };
  }

  clear(): void {
    this.fault = undefined;
  }

  current(): Fault | null {
    return this.fault ? { ...this.fault } : null;
  }

  /** The fault for a call to `path`, if any, counted against the remaining ones. */
  take(path: string): FaultKind | undefined {
    const fault = this.fault;
    if (!fault || (this.pathPattern && !this.pathPattern.test(path))) return undefined;
    if (fault.remaining !== null && --fault.remaining === 0) this.fault = undefined;
    return fault.kind;
  }
}

/** `/v1/payment_intents/*\/cancel` as a pattern: `*` is one path segment, the rest is literal. */
function pathPattern(path: string): RegExp {
  const literal = path.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('[^/]+')}$`);
}
