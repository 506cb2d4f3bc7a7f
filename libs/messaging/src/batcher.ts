import { MessagingOptions } from './messaging.options';

/** Applies a batch of items at once; answers each item's outcome, in order. */
export type BatchRun<I, O> = (items: I[]) => Promise<PromiseSettledResult<O>[]>;

/** A `BatchRun` for work that succeeds or fails as a whole (one transaction): no item has a value. */
export function wholeBatch<I>(run: (items: I[]) => Promise<void>): BatchRun<I, void> {
  return async (items) => {
    await run(items);
    return items.map(() => ({ status: 'fulfilled', value: undefined }));
  };
}

interface Waiting<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (error: unknown) => void;
}

/** How long a batch waits for others to join its first item. */
export interface BatchWindow {
  /** At most this long; 0: one event-loop turn. */
  windowMs: number;
  /**
   * At most until this many items wait: a consumer's batch can hold no more than the messages its
   * app handles at once, so waiting longer would add latency for nothing.
   */
  fullAt?: number;
  /**
   * Wait only while items come closer together than the window: an item after a quiet spell of at
   * least the window starts at once, since none is likely to join it. An idle app adds no latency,
   * and a busy one gathers the items of a window, as many as its rate brings.
   */
  onlyWhenBusy?: boolean;
}

/** The window of a consumer's batches: the app's batch window, until its every slot waits in it. */
export function batchWindow({ batchWindowMs, concurrency }: MessagingOptions): BatchWindow {
  return { windowMs: batchWindowMs, fullAt: concurrency };
}

/**
 * Gathers the items handed in during the batch window, and those handed in while a batch runs, into
 * one batch for `run`: handlers of messages that arrive together share one transaction instead of
 * paying a round trip and a commit each. Two items with the same key never share a batch: the
 * second waits for the next one, so it applies to what the first wrote. A batch that fails as a
 * whole is run again item by item, so one bad item costs the others nothing.
 */
export class Batcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private running = false;
  private windowTimer?: NodeJS.Timeout;
  private lastItemAt = -Infinity;

  constructor(
    private readonly run: BatchRun<I, O>,
    private readonly keyOf: (item: I) => string,
    private readonly window: BatchWindow = { windowMs: 0 },
  ) {}

  apply(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      const quietMs = this.quietBefore();
      this.waiting.push({ item, resolve, reject });
      if (this.windowTimer && this.waiting.length >= (this.window.fullAt ?? Infinity)) {
        this.endWindow();
        return;
      }
      if (this.running) return;
      this.running = true;
      if (this.waitsAfter(quietMs)) {
        this.windowTimer = setTimeout(() => this.endWindow(), this.window.windowMs);
      } else {
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Ms since the item before the one now handed in. */
  private quietBefore(): number {
    const now = performance.now();
    const quietMs = now - this.lastItemAt;
    this.lastItemAt = now;
    return quietMs;
  }

  /** Whether a batch whose first item came `quietMs` after the one before waits its window. */
  private waitsAfter(quietMs: number): boolean {
    const { windowMs, onlyWhenBusy } = this.window;
    return windowMs > 0 && !(onlyWhenBusy && quietMs >= windowMs);
  }

  private endWindow(): void {
    clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    void this.drain();
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch: Waiting<I, O>[] = [];
      const later: Waiting<I, O>[] = [];
      const keys = new Set<string>();
      for (const waiting of this.waiting) {
        const key = this.keyOf(waiting.item);
        (keys.has(key) ? later : batch).push(waiting);
        keys.add(key);
      }
      this.waiting = later;
      try {
        this.settle(batch, await this.run(batch.map((waiting) => waiting.item)));
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else for (const waiting of batch) await this.runAlone(waiting);
      }
    }
    this.running = false;
  }

  private async runAlone(waiting: Waiting<I, O>): Promise<void> {
    try {
      this.settle([waiting], await this.run([waiting.item]));
    } catch (error) {
      waiting.reject(error);
    }
  }

  private settle(batch: Waiting<I, O>[], outcomes: PromiseSettledResult<O>[]): void {
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') batch[i]!.resolve(outcome.value);
      else batch[i]!.reject(outcome.reason);
    });
  }
}
