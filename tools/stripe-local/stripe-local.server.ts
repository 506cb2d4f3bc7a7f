import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import pino, { Logger } from 'pino';
import { ApiFaults } from './api-faults';
import { controlRoutes } from './control.routes';
import { FormParams, parseForm } from './form-params';
import { ApiResponse, IdempotencyCache } from './idempotency.cache';
import { RequestLog } from './request.log';
import { stripeApiRoutes } from './stripe-api.routes';
import { StripeState } from './stripe-local.state';
import { newId } from './stripe-objects';
import { invalidRequest, StripeApiError } from './stripe.errors';
import { WebhookSender } from './webhook.sender';

export interface StripeLocalOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Where events are POSTed; can be set later through the control API. */
  webhookUrl?: string;
  webhookSecret: string;
  webhookRetryDelaysMs?: readonly number[];
  webhookTimeoutMs?: number;
  logger?: Logger;
}

export interface StripeLocal {
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** A local Stripe-compatible server: the official SDK pointed at it behaves as against Stripe. */
export async function startStripeLocal(options: StripeLocalOptions): Promise<StripeLocal> {
  const logger = options.logger ?? pino({ enabled: false });
  const webhooks = new WebhookSender({
    url: options.webhookUrl,
    secret: options.webhookSecret,
    retryDelaysMs: options.webhookRetryDelaysMs ?? [250, 1000, 5000, 15_000],
    timeoutMs: options.webhookTimeoutMs ?? 5000,
    logger,
  });
  const state = new StripeState((event) => webhooks.publish(event));
  const faults = new ApiFaults();
  const requests = new RequestLog();
  const idempotency = new IdempotencyCache();
  const api = stripeApiRoutes(state);
  const control = controlRoutes({ state, faults, webhooks, requests });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stripe-local');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    if (url.pathname.startsWith('/_control/')) {
      const { status, body } = await controlCall(method, url.pathname, raw);
      return send(res, status, body);
    }
    const requestId = newId('req');
    const idempotencyKey = headerOf(req, 'idempotency-key');
    const logged = { method, path: url.pathname, idempotencyKey };
    const fault = faults.take();
    if (fault === 'timeout') {
      // Left open on purpose: the client's own timeout ends it (or stop()).
      requests.add({ ...logged, status: null, replayed: false, fault });
      logger.warn({ ...logged, fault }, 'api request left hanging');
      return;
    }
    const { status, body, replayed } =
      fault === 'api_error'
        ? { ...errorResponse(apiError('stripe-local: injected API error')), replayed: false }
        : apiCall(req, method, url, raw, { requestId, idempotencyKey });
    requests.add({ ...logged, status, replayed, fault: fault ?? null });
    logger.info({ ...logged, status, replayed, fault }, 'api request');
    res.setHeader('Request-Id', requestId);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    send(res, status, body);
  }

  function apiCall(
    req: IncomingMessage,
    method: string,
    url: URL,
    raw: string,
    origin: { requestId: string; idempotencyKey: string | null },
  ): ApiResponse & { replayed: boolean } {
    const authError = authenticate(headerOf(req, 'authorization'));
    if (authError) return { ...errorResponse(authError), replayed: false };
    const params = parseForm(method === 'GET' ? url.search : raw);
    const key = method === 'POST' ? origin.idempotencyKey : null;
    try {
      const replay = key ? idempotency.replay(key, method, url.pathname, params) : undefined;
      if (replay) return { ...replay, replayed: true };
    } catch (error) {
      return { ...errorResponse(error as StripeApiError), replayed: false };
    }
    const response = route(method, url.pathname, params, origin);
    if (key && response.saved) idempotency.remember(key, method, url.pathname, params, response);
    return { status: response.status, body: response.body, replayed: false };
  }

  function route(
    method: string,
    path: string,
    params: FormParams,
    origin: { requestId: string; idempotencyKey: string | null },
  ): ApiResponse & { saved: boolean } {
    for (const candidate of api) {
      const match = candidate.method === method ? candidate.path.exec(path) : null;
      if (!match) continue;
      try {
        return {
          status: 200,
          body: candidate.handle({ params, id: match[1] ?? '', origin }),
          saved: true,
        };
      } catch (error) {
        if (error instanceof StripeApiError)
          return { ...errorResponse(error), saved: !error.beforeExecution };
        logger.error({ err: error, method, path }, 'api request failed');
        return { ...errorResponse(apiError('stripe-local: internal error')), saved: false };
      }
    }
    const unknown = invalidRequest(
      'resource_missing',
      `Unrecognized request URL (${method}: ${path}).`,
    );
    return { ...errorResponse(new StripeApiError(404, unknown.body)), saved: false };
  }

  async function controlCall(method: string, path: string, raw: string): Promise<ApiResponse> {
    try {
      const candidate = control.find((r) => r.method === method && r.path.test(path));
      if (!candidate)
        throw new StripeApiError(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `Unrecognized control URL (${method}: ${path}).`,
        });
      const id = candidate.path.exec(path)?.[1] ?? '';
      const body = await candidate.handle(jsonObject(raw), id);
      logger.info({ method, path }, 'control request');
      return { status: 200, body };
    } catch (error) {
      if (error instanceof StripeApiError) return errorResponse(error);
      throw error;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof StripeApiError ? error.status : 500;
      if (status === 500) logger.error({ err: error }, 'request failed');
      const failure =
        error instanceof StripeApiError ? error : apiError('stripe-local: internal error');
      if (!res.headersSent) send(res, status, { error: failure.body });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host, port, webhookUrl: options.webhookUrl ?? null }, 'stripe-local listening');
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    stop: async () => {
      webhooks.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Any `sk_test_`/`rk_test_` key is accepted, as Bearer (the SDK) or Basic auth (`curl -u sk_test_x:`). */
function authenticate(authorization: string | null): StripeApiError | undefined {
  if (!authorization)
    return new StripeApiError(401, {
      type: 'invalid_request_error',
      message:
        'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.',
    });
  const [scheme, credentials = ''] = authorization.split(' ');
  const key =
    scheme === 'Basic'
      ? Buffer.from(credentials, 'base64').toString('utf8').split(':')[0]!
      : credentials;
  if (/^(sk|rk)_test_\w+$/.test(key)) return undefined;
  return new StripeApiError(401, {
    type: 'invalid_request_error',
    message: `Invalid API Key provided: ${key.slice(0, 8)}***`,
  });
}

function apiError(message: string): StripeApiError {
  return new StripeApiError(500, { type: 'api_error', message });
}

function errorResponse(error: StripeApiError): ApiResponse {
  return { status: error.status, body: { error: error.body } };
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

function jsonObject(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalidRequest('parameter_invalid_json', 'The body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRequest('parameter_invalid_json', 'The body must be a JSON object.');
  return value as Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES)
        reject(
          new StripeApiError(413, {
            type: 'invalid_request_error',
            message: 'Request body too large.',
          }),
        );
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}
