import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { markTracingOn } from './tracing';
import { Env, tracesExporterOf, TracingConfigError } from './start-tracing';

/** Requests that are not the system's work: probes and scrapes would each make a trace. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

let provider: NodeTracerProvider | undefined;

/**
 * The SDK, registered for `service` (see `startTracing`). Spans leave through a batch processor
 * with a bounded queue: a collector that is down or slow costs dropped spans, never a blocked or
 * crashed app.
 */
export function startSdk(service: string, env: Env): void {
  const exporterKind = tracesExporterOf(env);
  if (!exporterKind || provider) return;
  const exporter: SpanExporter =
    exporterKind === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter();
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.version': versionOf(),
      'deployment.environment': env.NODE_ENV ?? 'development',
      // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    }).merge(detectResources({ detectors: [envDetector] })),
    // OTEL_TRACES_SAMPLER, when set, is read by the SDK itself.
    sampler: env.OTEL_TRACES_SAMPLER ? undefined : parentBasedRatio(env.OTEL_TRACES_SAMPLER_ARG),
    // Its queue (OTEL_BSP_MAX_QUEUE_SIZE, 2048 by default) drops spans when full.
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
      }),
      // The route's span is enough: one span per middleware is noise.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // Background polling (the relay's claims, the deadline scan) runs outside any span.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  markTracingOn();
}

export async function stopSdk(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
}

/** Parent-based: a trace is sampled once, where it starts, at OTEL_TRACES_SAMPLER_ARG (1.0). */
function parentBasedRatio(argument: string | undefined): ParentBasedSampler {
  const ratio = argument === undefined || argument.trim() === '' ? 1 : Number(argument);
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new TracingConfigError(
      `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not ${argument}`,
    );
  }
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
}

/** The platform's version, from the nearest package.json (none in a container image: unknown). */
function versionOf(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      if (name === 'saga-platform' && version) return version;
    }
  }
  return 'unknown';
}
