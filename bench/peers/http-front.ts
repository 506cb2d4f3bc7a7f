import { KeepAliveFetch } from '../../tests/harness/keep-alive-fetch';
import { freePort } from '../../tests/harness/nats-server';
import { cpuMs } from '../../tests/bench/cpu-meter';
import { percentile } from '../../tests/bench/stats';
import { startScript, stopScript } from './peer-saga';

/** The HTTP stacks measured, and the FRONT of http-front.main.ts that serves each. */
export const HTTP_FRONTS = {
  'node:http (the peers)': 'node',
  'Express 5': 'express',
  'Nest + Express': 'nest-express',
  'Nest + Fastify (the platform)': 'nest-fastify',
} as const;
export type HttpFront = keyof typeof HTTP_FRONTS;

export interface FrontCost {
  cpuMsPerRequest: number;
  p50: number;
  p99: number;
}

const WARM_UP_REQUESTS = 500;

/**
 * POST /orders on one HTTP stack with nothing behind it, `rate` a second for `seconds` (after a
 * warm-up), from keep-alive connections as bench:saga's clients: the server process's CPU ms per
 * request, and the latencies. What a stack costs when requests arrive one at a time, as at 150/s.
 */
export async function measureFront(
  front: HttpFront,
  rate: number,
  seconds: number,
): Promise<FrontCost> {
  const port = await freePort();
  const app = await startScript('bench/peers/http-front.main.ts', {
    FRONT: HTTP_FRONTS[front],
    PORT: String(port),
  });
  try {
    const http = new KeepAliveFetch();
    const post = async (): Promise<number> => {
      const started = performance.now();
      const response = await http.fetch(
        new Request(`http://127.0.0.1:${port}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ sku: 'BENCH-0', quantity: 1 }] }),
        }),
      );
      if (response.status !== 201) throw new Error(`${front}: POST /orders ${response.status}`);
      await response.arrayBuffer();
      return performance.now() - started;
    };
    for (let i = 0; i < WARM_UP_REQUESTS; i++) await post();
    const pid = app.child.pid!;
    const cpuBefore = cpuMs(pid)!;
    const started = performance.now();
    const latencies: Promise<number>[] = [];
    for (let i = 0; i < rate * seconds; i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      latencies.push(post());
    }
    const sorted = (await Promise.all(latencies)).sort((a, b) => a - b);
    return {
      cpuMsPerRequest: (cpuMs(pid)! - cpuBefore) / sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  } finally {
    await stopScript(app);
  }
}
