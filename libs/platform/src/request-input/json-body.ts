import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { DomainError, InvalidRequestError } from '../http-errors';
import { NUL_CHARACTERS, untrustedInputProblem } from './untrusted-input';

/** Request bodies above this answer 413. */
const BODY_LIMIT = { label: '64kb', bytes: 64 * 1024 };
/** Third parties' deliveries under `/webhooks/`: a Stripe event can exceed 64 KB. */
const WEBHOOK_BODY_LIMIT = { label: '1mb', bytes: 1024 * 1024 };
export const WEBHOOK_PATH_PREFIX = '/webhooks/';
/**
 * A body over its limit is still read, and dropped, up to this many times the limit before the 413
 * goes out, which closes the connection (Fastify's rule after a refused body): a client still
 * sending when the server closes gets a TCP reset and may lose the answer (RFC 9112, 9.6). Beyond
 * it, declared or received, the answer goes out at once.
 */
export const OVER_LIMIT_DRAINED = 4;

export class RequestTooLargeError extends DomainError {
  readonly code = 'REQUEST.TOO_LARGE';
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'REQUEST.UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

export class MalformedJsonError extends DomainError {
  readonly code = 'REQUEST.MALFORMED_JSON';
  readonly status = 400;
}

/** The body's bytes, kept for webhook signatures (Nest's `RawBodyRequest`). */
type RawBodyRequest = FastifyRequest & { rawBody?: Buffer };

/**
 * The only body parser of the apps' Fastify edge: JSON objects and arrays in UTF-8, unencoded, up
 * to BODY_LIMIT (WEBHOOK_BODY_LIMIT under /webhooks/), nesting at most MAX_JSON_DEPTH levels,
 * without prototype keys or NUL characters; any other body is refused before it reaches a guard
 * or a handler, on every method. Refusals are the client's fault: a JSON error that never echoes
 * the input (a parser's message quotes it), and a warning without a stack.
 */
export function acceptJsonBodies(fastify: FastifyInstance): void {
  const logger = new Logger('RequestBody');
  const refused = (error: DomainError, method: string) => {
    logger.warn({ msg: 'request body refused', code: error.code, method });
    return error;
  };
  fastify.removeAllContentTypeParsers();
  // Before the body is read: Fastify itself would parse bodies of some methods only.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const problem = hasBody(request) && mediaTypeProblem(request.headers);
    done(problem ? refused(new UnsupportedMediaTypeError(problem), request.method) : undefined);
  });
  fastify.addContentTypeParser('application/json', (request, payload, done) => {
    const limit = request.url.startsWith(WEBHOOK_PATH_PREFIX) ? WEBHOOK_BODY_LIMIT : BODY_LIMIT;
    readBody(payload, request.headers, limit.bytes).then(
      (raw) => {
        const body =
          raw === undefined
            ? new RequestTooLargeError(`request bodies are limited to ${limit.label}`)
            : decodeJson(raw);
        if (body instanceof DomainError) return done(refused(body, request.method));
        (request as RawBodyRequest).rawBody = raw;
        done(null, body);
      },
      () => done(refused(new MalformedJsonError('the body could not be read'), request.method)),
    );
  });
}

/** Whether the request carries a body (Content-Length or chunked), as Node frames it. */
export function hasBody(request: { headers: IncomingHttpHeaders }): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

/** Why a body of these headers is not JSON the apps read, or false. */
function mediaTypeProblem(headers: IncomingHttpHeaders): string | false {
  const [type, ...parameters] = (headers['content-type'] ?? '').split(';');
  if (type!.trim().toLowerCase() !== 'application/json') {
    return 'request bodies must be application/json';
  }
  const charset = parameters
    .map((parameter) => parameter.trim().toLowerCase())
    .find((parameter) => parameter.startsWith('charset='));
  const encoding = headers['content-encoding'];
  if ((charset && !/^charset="?utf-8"?$/.test(charset)) || (encoding && encoding !== 'identity')) {
    return 'unsupported body encoding or charset';
  }
  return false;
}

/**
 * The body's bytes, or undefined when it passes `limit`: once it has all arrived, or at once when
 * it passes OVER_LIMIT_DRAINED times the limit (declared or received).
 */
function readBody(
  payload: Readable,
  headers: IncomingHttpHeaders,
  limit: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const drainedUpTo = limit * OVER_LIMIT_DRAINED;
    if (Number(headers['content-length']) > drainedUpTo) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      payload.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (size <= drainedUpTo) return;
      stop();
      resolve(undefined);
    };
    const onEnd = () => {
      stop();
      resolve(size <= limit ? Buffer.concat(chunks, size) : undefined);
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    payload.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/**
 * A JSON object or array that passes the untrusted-input checks, or the error that refuses it.
 * An empty body (`Content-Length: 0`, as fetch sends for a bodiless POST) is no body.
 */
function decodeJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  let body: unknown;
  try {
    body = first === '{' || first === '[' ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (body === undefined) return new MalformedJsonError('the body is not a JSON object or array');
  const problem = untrustedInputProblem(body, NUL_CHARACTERS);
  return problem ? new InvalidRequestError(problem) : body;
}
