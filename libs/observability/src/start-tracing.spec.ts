import { startTracing, tracesExporterOf } from './start-tracing';
import { tracingOn } from './tracing';

// Stands in for the SDK: records whether it was loaded and started, which starts nothing real.
const sdk = { loaded: false, started: [] as string[] };
jest.mock('./tracing-sdk', () => {
  sdk.loaded = true;
  return { startSdk: (service: string) => sdk.started.push(service) };
});

/** startTracing with exactly these variables in the environment. */
function startWith(env: Record<string, string>): boolean {
  const saved = process.env;
  process.env = env;
  try {
    return startTracing('order');
  } finally {
    process.env = saved;
  }
}

describe('startTracing', () => {
  it('leaves tracing off without an endpoint or exporter: the SDK is not even loaded', () => {
    expect(startWith({})).toBe(false);
    expect(startWith({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(sdk.loaded).toBe(false);
    expect(tracingOn()).toBe(false);
  });

  it('stays off when told so, whatever endpoint is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(startWith({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(startWith({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(sdk.loaded).toBe(false);
  });

  it('starts the SDK for an OTLP endpoint, for traces only or for every signal', () => {
    expect(
      tracesExporterOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
    ).toBe('otlp');
    expect(tracesExporterOf({ OTEL_TRACES_EXPORTER: 'console' })).toBe('console');
    expect(startWith({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(sdk.started).toEqual(['order']);
  });

  it('refuses an exporter it does not have, naming the variable', () => {
    expect(() => tracesExporterOf({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(
      'OTEL_TRACES_EXPORTER must be otlp, console or none, not zipkin',
    );
  });
});
