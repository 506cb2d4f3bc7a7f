import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { DomainError, InvalidRequestError } from '../http-errors';
import { NUL_CHARACTERS, untrustedInputProblem } from './untrusted-input';

/** Request bodies above this answer 413. */
export const BODY_LIMIT = '64kb';
/** Third parties' deliveries under `/webhooks/`: a Stripe event can exceed 64 KB. */
export const WEBHOOK_BODY_LIMIT = '1mb';
export const WEBHOOK_PATH_PREFIX = '/webhooks/';

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
type RawBodyRequest = Request & { rawBody?: Buffer };

/**
 * The only body parser: JSON objects and arrays up to BODY_LIMIT (WEBHOOK_BODY_LIMIT under
 * /webhooks/), nesting at most MAX_JSON_DEPTH levels, without prototype keys or NUL characters;
 * any other body is refused before it reaches a guard or a handler. Refusals are the client's
 * fault: a JSON error that never echoes the input (a parser's message quotes it), and a warning
 * without a stack.
 */
export function jsonBody(): RequestHandler {
  const keepRawBody = (req: RawBodyRequest, _res: Response, buffer: Buffer) => {
    req.rawBody = buffer;
  };
  const parserOf = (limit: string) => ({
    limit,
    parse: json({ limit, strict: true, verify: keepRawBody }),
  });
  const api = parserOf(BODY_LIMIT);
  const webhook = parserOf(WEBHOOK_BODY_LIMIT);
  const logger = new Logger('RequestBody');
  return (req: Request, res: Response, next: NextFunction) => {
    const refuse = (error: DomainError) => {
      logger.warn({ msg: 'request body refused', code: error.code, method: req.method });
      next(error);
    };
    if (hasBody(req) && !req.is('application/json')) {
      return refuse(new UnsupportedMediaTypeError('request bodies must be application/json'));
    }
    const { limit, parse } = req.path.startsWith(WEBHOOK_PATH_PREFIX) ? webhook : api;
    parse(req, res, (error?: unknown) => {
      if (error) return refuse(parserError(error, limit));
      const problem = untrustedInputProblem(req.body, NUL_CHARACTERS);
      if (problem) return refuse(new InvalidRequestError(problem));
      next();
    });
  };
}

/** As body-parser decides (Content-Length or chunked), so a body it would skip is not refused. */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function parserError(error: unknown, limit: string): DomainError {
  const status = (error as { status?: unknown }).status;
  if (status === 413) return new RequestTooLargeError(`request bodies are limited to ${limit}`);
  if (status === 415) return new UnsupportedMediaTypeError('unsupported body encoding or charset');
  return new MalformedJsonError('the body is not a JSON object or array');
}
