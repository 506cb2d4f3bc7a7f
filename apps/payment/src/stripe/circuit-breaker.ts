export type CircuitState = 'closed' | 'open' | 'half-open';

/** Refused without calling: the dependency is down. Transient, like the outage it stands for. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
}

export interface CircuitBreakerOptions {
  /** Consecutive outages that open the circuit. */
  failureThreshold: number;
  /** How long the open circuit refuses calls before one probe goes through. */
  openMs: number;
  onStateChange?: (state: CircuitState) => void;
  now?: () => number;
}

/**
 * Closed: calls go through and consecutive outages are counted. Open: calls are refused at once.
 * After `openMs`, one call probes (half-open): success closes the circuit, an outage opens it again.
 * Only outages count; an answer that is an error (a declined card) shows the dependency is up.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get current(): CircuitState {
    return this.state;
  }

  async run<T>(call: () => Promise<T>, isOutage: (error: unknown) => boolean): Promise<T> {
    const probe = this.admit();
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (error) {
      if (isOutage(error)) this.failed(probe);
      else this.succeeded();
      throw error;
    } finally {
      if (probe) this.probing = false;
    }
  }

  /** Returns whether this call is the half-open probe; throws when the circuit refuses it. */
  private admit(): boolean {
    if (this.state === 'open' && this.now() - this.openedAt >= this.options.openMs) {
      this.moveTo('half-open');
    }
    if (this.state === 'closed') return false;
    if (this.state === 'half-open' && !this.probing) {
      this.probing = true;
      return true;
    }
    throw new CircuitOpenError('Stripe circuit is open: calls are paused while it is down');
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.state !== 'closed') this.moveTo('closed');
  }

  private failed(probe: boolean): void {
    this.failures++;
    if (probe || (this.state === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.moveTo('open');
    }
  }

  private moveTo(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange?.(state);
  }
}
