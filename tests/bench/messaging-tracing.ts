// messaging.bench.ts imports this first: with BENCH_TRACING, tracing must patch pg and http before
// they load (the bench runs its apps in its own process).
import { startTracing } from '@lib/observability';
import { startTracingSink } from './tracing-sink';

export const sink = startTracingSink();
if (sink) {
  // The SDK reads its variables from the environment.
  Object.assign(process.env, sink.env);
  startTracing('bench-messaging');
}
