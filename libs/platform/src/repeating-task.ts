/**
 * Runs `task` every `intervalMs` until stopped. A pass slower than the interval is not overlapped by
 * the next one, and a failed pass goes to `onError` without stopping the task.
 */
export class RepeatingTask {
  private readonly timer: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(task: () => Promise<unknown>, intervalMs: number, onError: (error: unknown) => void) {
    this.timer = setInterval(() => {
      this.running ??= task()
        .then(() => undefined, onError)
        .finally(() => (this.running = undefined));
    }, intervalMs);
  }

  /** Stops the timer, then waits for a pass under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
