/**
 * Node flags every app process runs with (the image's entry point, `npm run dev`, the test
 * harness). `--experimental-async-context-frame` keeps AsyncLocalStorage (the log context, and
 * OpenTelemetry's context when tracing is on) in V8's continuation data instead of promise hooks:
 * without it every promise of every request and message pays an init hook. It is Node 24's default;
 * on Node 22 it cut the apps' CPU per saga by about a tenth at 150 orders/s (docs/performance.md).
 * infra/docker/app.Dockerfile repeats it in its ENTRYPOINT, and package.json in bench:messaging and
 * bench:peers, which run the transport in their own process.
 */
export const APP_NODE_FLAGS = ['--experimental-async-context-frame'];
