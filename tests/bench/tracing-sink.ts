import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { killOnExit } from '../harness/orphans';

/*
 * BENCH_TRACING=<ratio> runs a benchmark with tracing on, sampling that share of the traces
 * (parent-based, as the apps do by default): BENCH_TRACING=1 traces everything, 0.1 a tenth.
 * Unset (or `off`), tracing stays off, as in production without OTEL_* variables. The spans go to
 * a local OTLP/HTTP sink the benchmark starts (tests/bench/otlp-sink.main.ts), which counts and
 * drops them.
 */
const setting = process.env.BENCH_TRACING?.trim();
export const TRACING_RATIO =
  setting === undefined || setting === '' || setting === 'off' ? undefined : Number(setting);
if (TRACING_RATIO !== undefined && !(TRACING_RATIO >= 0 && TRACING_RATIO <= 1)) {
  throw new Error(`BENCH_TRACING must be off or a ratio from 0 to 1, not ${setting}`);
}

export interface TracingSink {
  /** The OTEL_* variables that send a process's spans to the sink at the ratio. */
  env: Record<string, string>;
  /** What the run is labelled with in the output. */
  label: string;
  /** Stops the sink; answers what it received. */
  stop(): Promise<string>;
}

/** Starts the sink when BENCH_TRACING asks for tracing. Synchronous: it may run before any import. */
export function startTracingSink(): TracingSink | undefined {
  if (TRACING_RATIO === undefined) return undefined;
  const port = freePortSync();
  const child: ChildProcess = killOnExit(
    spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(__dirname, 'otlp-sink.main.ts'), String(port)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(TRACING_RATIO),
    },
    label: `tracing on, ratio ${TRACING_RATIO}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return output.split('\n').filter(Boolean).at(-1) ?? '';
    },
  };
}

/** A port free right now, found without waiting on the event loop. */
function freePortSync(): number {
  const script =
    "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })";
  return Number(execFileSync(process.execPath, ['-e', script]).toString().trim());
}
