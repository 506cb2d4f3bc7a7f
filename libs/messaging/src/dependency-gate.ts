import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { errorMessage } from './errors';
import { messagingMetrics } from './messaging.metrics';

export interface DependencyGateOptions {
  /** Resolves when the dependency answers again: what a closed gate asks it. */
  probe: () => Promise<unknown>;
  /** How long a closed gate waits between probes. */
  probeEveryMs: number;
  /**
   * Whether a handler's error shows the dependency down (a refused connection): the transport
   * closes the gate on it. Without it only the gate's owner closes it (a circuit breaker that
   * opened), so one failing request does not pause every consumer.
   */
  isOutage?: (error: unknown) => boolean;
}

/**
 * A dependency the consumers cannot work without (Postgres, Stripe, the DLQ stream), and whether it
 * is known to be down. Closed, it probes the dependency until it answers, then opens. While a gate
 * is closed the transport holds the messages it is given (kept from redelivery, not handled) and
 * hands them to their handlers once it opens: an outage costs latency, never a delivery.
 */
export class DependencyGate {
  private readonly logger = new Logger(DependencyGate.name);
  private down?: { since: number; reopened: () => void; opened: Promise<void> };
  private probeTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    private readonly options: DependencyGateOptions,
  ) {
    messagingMetrics.dependencyAvailable.set({ dependency: name }, 1);
  }

  get isOpen(): boolean {
    return this.down === undefined;
  }

  /** Resolves at once when open, else when the dependency answers again. */
  whenOpen(): Promise<void> {
    return this.down?.opened ?? Promise.resolve();
  }

  /** Whether `error` shows this dependency down (see `DependencyGateOptions.isOutage`). */
  recognises(error: unknown): boolean {
    return this.options.isOutage?.(error) ?? false;
  }

  /** The dependency is down: hold what needs it, and probe until it answers. Repeats are no-ops. */
  close(reason: string): void {
    if (this.down) return;
    let reopened!: () => void;
    const opened = new Promise<void>((resolve) => (reopened = resolve));
    this.down = { since: Date.now(), reopened, opened };
    messagingMetrics.dependencyAvailable.set({ dependency: this.name }, 0);
    this.logger.warn({
      msg: 'dependency down: holding the messages that need it',
      dependency: this.name,
      reason,
    });
    this.probeLater();
    this.changed();
  }

  /** The dependency answers again: release everything held for it. Repeats are no-ops. */
  open(): void {
    const down = this.down;
    if (!down) return;
    this.down = undefined;
    clearTimeout(this.probeTimer);
    messagingMetrics.dependencyAvailable.set({ dependency: this.name }, 1);
    this.logger.log({
      msg: 'dependency back',
      dependency: this.name,
      downMs: Date.now() - down.since,
    });
    down.reopened();
    this.changed();
  }

  /** Calls `listener` whenever the gate opens or closes, until the returned function is called. */
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops probing (the app is shutting down); a closed gate stays closed. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.probeTimer);
  }

  private probeLater(): void {
    if (this.stopped) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.options.probeEveryMs);
    // A probe must not keep a process alive that is otherwise done.
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (!this.down) return;
    try {
      await this.options.probe();
      this.open();
    } catch (error) {
      this.logger.debug({
        msg: 'dependency still down',
        dependency: this.name,
        error: errorMessage(error),
      });
      if (this.down) this.probeLater();
    }
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/**
 * The gates of the app's consumers: while any is closed they take no message to their handlers.
 * The platform adds Postgres's, an app the dependencies of its own (payment: Stripe).
 */
@Injectable()
export class DependencyGates implements OnApplicationShutdown {
  private readonly gates: DependencyGate[] = [];
  private readonly listeners = new Set<() => void>();

  add(gate: DependencyGate): DependencyGate {
    this.gates.push(gate);
    gate.watch(() => {
      for (const listener of this.listeners) listener();
    });
    return gate;
  }

  /** Whether every dependency is up, as far as the app knows. */
  get open(): boolean {
    return this.gates.every((gate) => gate.isOpen);
  }

  /** The gates closed now, by name: what the consumers wait for. */
  get closed(): string[] {
    return this.gates.filter((gate) => !gate.isOpen).map((gate) => gate.name);
  }

  /** Resolves once every gate is open. */
  async opened(): Promise<void> {
    for (let closed = this.firstClosed(); closed; closed = this.firstClosed()) {
      await closed.whenOpen();
    }
  }

  /**
   * A handler failed: closes the gates whose dependency the error shows down. True when a gate is
   * closed now, so the failure is the outage's and not the message's.
   */
  failedWith(error: unknown): boolean {
    for (const gate of this.gates) {
      if (gate.isOpen && gate.recognises(error)) gate.close(errorMessage(error));
    }
    return !this.open;
  }

  /** Calls `listener` whenever a gate opens or closes. */
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onApplicationShutdown(): void {
    for (const gate of this.gates) gate.stop();
  }

  private firstClosed(): DependencyGate | undefined {
    return this.gates.find((gate) => !gate.isOpen);
  }
}
