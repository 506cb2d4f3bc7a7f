import { tracingOn } from './tracing';

export type Env = Record<string, string | undefined>;

/** An OTEL_* variable the platform cannot follow. */
export class TracingConfigError extends Error {}

/**
 * Which exporter the standard OTEL_* variables ask for; undefined leaves tracing off. Off unless an
 * OTLP endpoint or OTEL_TRACES_EXPORTER is set (`none` turns it off too, as does
 * OTEL_SDK_DISABLED=true).
 */
export function tracesExporterOf(env: Env): 'otlp' | 'console' | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const chosen = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (chosen === 'none') return undefined;
  if (chosen === 'console') return 'console';
  if (chosen === 'otlp') return 'otlp';
  if (chosen)
    throw new TracingConfigError(
      `OTEL_TRACES_EXPORTER must be otlp, console or none, not ${chosen}`,
    );
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? 'otlp'
    : undefined;
}

/**
 * Starts OpenTelemetry for `service` when the process's OTEL_* variables ask for it (see
 * docs/observability.md; the SDK reads them too); answers whether tracing is on. Must run before
 * Nest, express and pg are loaded: the instrumentations patch them as they load.
 */
export function startTracing(service: string): boolean {
  try {
    if (!tracesExporterOf(process.env)) return false;
    // Loaded only when tracing is on: the SDK and its instrumentations take about a second to load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./tracing-sdk') as typeof import('./tracing-sdk')).startSdk(service, process.env);
    return true;
  } catch (error) {
    if (!(error instanceof TracingConfigError)) throw error;
    // As a bad variable of the app's config does: one line naming it.
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
}

/** Sends the spans still queued, for a process that is about to exit. */
export async function stopTracing(): Promise<void> {
  if (!tracingOn()) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require('./tracing-sdk') as typeof import('./tracing-sdk')).stopSdk();
}
