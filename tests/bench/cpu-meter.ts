import { readFileSync } from 'node:fs';

const TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** User + system CPU time of one process in ms, from /proc; undefined once it has exited. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS;
  } catch {
    return undefined;
  }
}

/**
 * The machine's CPU times from /proc/stat (user, nice, system, idle, iowait, irq, softirq, steal):
 * `stolenPercent` of two readings says how much of the time the hypervisor gave to other guests.
 */
export function machineCpuTimes(): number[] {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  return cpu!.trim().split(/\s+/).slice(1, 9).map(Number);
}

/** Of the machine's CPU time between two readings of `machineCpuTimes`, the share stolen, in %. */
export function stolenPercent(before: number[], after: number[]): number {
  const spent = after.map((ticks, i) => ticks - before[i]!);
  const total = spent.reduce((a, b) => a + b, 0);
  return total > 0 ? (100 * spent[7]!) / total : 0;
}

/**
 * CPU time a group of processes spends between `start()` and `stop()`. The group may change while
 * it runs (pooled Postgres backends come and go), so it is sampled: each process counts with the
 * last figure seen, from the figure it had at the start (or zero when it appeared later).
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private sampling = Promise.resolve();

  constructor(private readonly pids: () => Promise<number[]>) {}

  async start(): Promise<void> {
    await this.sample(true);
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample(false));
    }, 250);
  }

  /** The CPU ms spent since `start()`. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample(false);
    let total = 0;
    for (const [pid, ms] of this.last) total += ms - (this.first.get(pid) ?? 0);
    return total;
  }

  private async sample(initial: boolean): Promise<void> {
    for (const pid of await this.pids()) {
      const ms = cpuMs(pid);
      if (ms === undefined) continue;
      if (initial) this.first.set(pid, ms);
      this.last.set(pid, ms);
    }
  }
}
