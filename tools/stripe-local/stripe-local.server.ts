import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import pino, { Logger } from 'pino';
import { ApiFaults } from './api.faults';
import { carriesControlToken, DEV_STRIPE_LOCAL_CONTROL_TOKEN } from './control-token';
import { callControl, controlRoutes } from './control.routes';
import { RequestLog } from './request.log';
import { StripeApiHandler } from './stripe-api.handler';
import { StripeState } from './stripe-local.state';
import { apiError, controlUnauthorized, errorResponse, StripeApiError } from './stripe.errors';
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
  /** What `/_control/` requires as a bearer token; the development one by default. */
  controlToken?: string;
  logger?: Logger;
}

export interface StripeLocal {
  url: string;
  host: string;
  port: number;
  controlToken: string;
  /** The variables that point the payment app's Stripe SDK at this server. */
  sdkEnv: { STRIPE_API_HOST: string; STRIPE_API_PORT: string; STRIPE_API_PROTOCOL: 'http' };
  stop(): Promise<void>;
}

export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [250, 1000, 5000, 15_000];
const MAX_BODY_BYTES = 1024 * 1024;

/** A local Stripe-compatible server: the official SDK pointed at it behaves as against Stripe. */
export async function startStripeLocal(options: StripeLocalOptions): Promise<StripeLocal> {
  const logger = options.logger ?? pino({ enabled: false });
  const webhooks = new WebhookSender({
    url: options.webhookUrl,
    secret: options.webhookSecret,
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    timeoutMs: options.webhookTimeoutMs ?? 5000,
    logger,
  });
  const state = new StripeState((event) => webhooks.publish(event));
  const faults = new ApiFaults();
  const requests = new RequestLog();
  const api = new StripeApiHandler(state, faults, requests, logger);
  const control = controlRoutes({ state, faults, webhooks, requests });
  const controlToken = options.controlToken ?? DEV_STRIPE_LOCAL_CONTROL_TOKEN;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stripe-local');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/_control/')) {
      if (!carriesControlToken(req.headers, controlToken)) {
        logger.warn({ method, path: url.pathname, status: 401 }, 'control request refused');
        const { status, body } = controlUnauthorized();
        return send(res, status, body, { 'WWW-Authenticate': 'Bearer' });
      }
      const raw = await readBody(req);
      const { status, body } = await callControl(control, method, url.pathname, raw);
      logger.info({ method, path: url.pathname, status }, 'control request');
      return send(res, status, body);
    }
    const raw = await readBody(req);
    const answer = api.handle({
      method,
      path: url.pathname,
      form: method === 'GET' ? url.search : raw,
      authorization: headerOf(req, 'authorization'),
      idempotencyKey: headerOf(req, 'idempotency-key'),
    });
    // A hanging call is left open: the client's own timeout ends it, or stop() does.
    if (answer !== 'hang') send(res, answer.status, answer.body, answer.headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!(error instanceof StripeApiError)) logger.error({ err: error }, 'request failed');
      const failure =
        error instanceof StripeApiError ? error : apiError('stripe-local: internal error');
      if (!res.headersSent) {
        const { status, body } = errorResponse(failure);
        send(res, status, body);
      }
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
    controlToken,
    sdkEnv: { STRIPE_API_HOST: host, STRIPE_API_PORT: String(port), STRIPE_API_PROTOCOL: 'http' },
    stop: async () => {
      webhooks.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else
        reject(
          new StripeApiError(413, {
            type: 'invalid_request_error',
            message: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
          }),
        );
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(json)),
  });
  res.end(json);
}
