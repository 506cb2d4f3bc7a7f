import type { ServerResponse } from 'node:http';
import { Logger } from 'pino';
import { counter, histogram } from '@lib/observability';
import { AuthenticatedRequest } from './auth/auth.decorators';

export const httpMetrics = {
  requests: counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
  }),
  duration: histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
};

/** The route label of a request no route took (a 404 of an unknown path, an unreadable body). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Probes and scrapes: counted, but not logged (they arrive every few seconds). */
const QUIET_ROUTES = /^\/(health|metrics)(\/|$)/;

/** A request as Fastify (the apps) or Express (the console) hands it over. */
type AnyRequest = AuthenticatedRequest & {
  routeOptions?: { url?: string };
  route?: { path?: unknown };
  baseUrl?: string;
  originalUrl?: string;
};

/**
 * `/orders/:id`: the template of the route that took the request, never its path, so that the
 * metrics' labels stay few and neither labels nor logs carry ids or input.
 */
export function routeOf(request: AnyRequest): string {
  if (request.routeOptions) return request.routeOptions.url ?? UNMATCHED_ROUTE;
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : UNMATCHED_ROUTE;
}

/**
 * Each request, once answered (or abandoned by its client): counted and timed in the HTTP metrics,
 * and one JSON access log line (method, route, status, duration, request id, principal when
 * known). Never the body, the query string or a header: they may carry secrets. Called as the
 * request arrives, by either adapter.
 */
export function watchRequest(
  logger: Logger,
  request: AnyRequest & { url?: string },
  response: ServerResponse,
  requestId: string,
): void {
  const started = process.hrtime.bigint();
  response.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeOf(request);
    const method = request.method;
    const status = response.statusCode;
    httpMetrics.requests.inc({ method, route, status });
    httpMetrics.duration.observe({ method, route }, seconds);
    const level = status >= 500 ? 'error' : 'info';
    if (QUIET_ROUTES.test(route) || !logger.isLevelEnabled(level)) return;
    const principal = request.principal;
    logger[level]({
      msg: 'request',
      method,
      route,
      path: (request.originalUrl ?? request.url ?? '').split('?', 1)[0],
      status,
      durationMs: Math.round(seconds * 1e4) / 10,
      requestId,
      ...(principal && { principal: { sub: principal.sub, tenantId: principal.tenantId } }),
      // The client went away before the answer was sent.
      ...(!response.writableFinished && { aborted: true }),
    });
  });
}
