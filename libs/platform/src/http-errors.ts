import {
  ArgumentMetadata,
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  Injectable,
  ParseUUIDPipe,
  SetMetadata,
  ValidationPipe,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { Observable, throwError } from 'rxjs';
import { ValidationError, ValidatorOptions } from 'class-validator';
import { describeErrors, passesValidation } from '@lib/contracts';
import { isConnectionError, isTransactionConflict } from '@lib/persistence';
import {
  CONTROL_CHARACTERS,
  nestedArrayProblems,
  untrustedInputProblem,
} from './request-input/untrusted-input';

/**
 * A broken business rule with a stable code, e.g. `ORDER.NOT_FOUND` (404) or
 * `ORDER.ALREADY_FINISHED` (409). HTTP answers it as `{ statusCode, code, message }`.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Response headers that belong to the answer, e.g. `WWW-Authenticate` on a 401. */
  readonly headers?: Record<string, string>;
}

export type DomainErrorClass = abstract new (...args: never[]) => DomainError;

export const REFUSES_METADATA = 'saga:refuses';

/**
 * The domain errors a handler answers with, besides those every route may (access, rate limits,
 * bad input, Idempotency-Key reuse): its OpenAPI operation documents each with its status and code.
 */
export const Refuses = (...errors: DomainErrorClass[]) => SetMetadata(REFUSES_METADATA, errors);

/** Bad input that validation or a handler caught: 400 `REQUEST.INVALID`, naming the problem. */
export class InvalidRequestError extends DomainError {
  readonly code = 'REQUEST.INVALID';
  readonly status = 400;
}

/** What a filter answers with, on Fastify's reply and Express's response alike. */
export interface HttpResponse {
  header(name: string, value: string): unknown;
  status(code: number): { send(body: unknown): unknown };
}

@Catch(DomainError)
export class DomainErrorFilter implements ExceptionFilter {
  catch(error: DomainError, host: ArgumentsHost): Observable<never> | void {
    // In an event handler the transport decides what the error means (retry or dead-letter).
    if (host.getType() !== 'http') return throwError(() => error);
    const response = host.switchToHttp().getResponse<HttpResponse>();
    for (const [name, value] of Object.entries(error.headers ?? {})) response.header(name, value);
    response
      .status(error.status)
      .send({ statusCode: error.status, code: error.code, message: error.message });
  }
}

/** The database is out of reach for now: 503 with Retry-After, which clients and proxies retry. */
export class DatabaseUnavailableError extends DomainError {
  readonly code = 'SERVICE.UNAVAILABLE';
  readonly status = 503;
  override readonly headers = { 'Retry-After': '1' };

  constructor(message = 'the database is out of reach; retry shortly') {
    super(message);
  }
}

const TRANSACTION_CONFLICT =
  'the request met another in the database and was undone; retry shortly';

/**
 * What no other filter takes. A request that failed because Postgres is out of reach (stopped,
 * restarting, the network), or because Postgres rolled its transaction back in a conflict with
 * another (a deadlock), met a passing state of the server, not a bug: it answers 503 like
 * `DatabaseUnavailableError`, never a 500. Anything else keeps Nest's answer. Register it before
 * DomainErrorFilter, so that one is asked first.
 */
@Catch()
export class DatabaseUnavailableFilter extends BaseExceptionFilter {
  private readonly domainErrors = new DomainErrorFilter();

  override catch(error: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() !== 'http') return throwError(() => error);
    if (isConnectionError(error))
      return this.domainErrors.catch(new DatabaseUnavailableError(), host);
    if (isTransactionConflict(error))
      return this.domainErrors.catch(new DatabaseUnavailableError(TRANSACTION_CONFLICT), host);
    super.catch(error, host);
  }
}

/**
 * Request bodies, params and queries: unknown fields rejected, values converted to the declared
 * types, and one 400 naming every problem. Path and query parameters are ids and filters, so a
 * control character in one is refused; bodies were checked for depth, prototype keys and NUL as
 * they were parsed (`jsonBody`). Put on HTTP controllers with `@UsePipes`; never global, because
 * event handlers receive envelopes that the transport has already validated.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new InvalidRequestError(describeErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' || metadata.type === 'query') {
      const problem = untrustedInputProblem(value, CONTROL_CHARACTERS, metadata.data);
      if (problem) throw new InvalidRequestError(problem);
    }
    const result: unknown = await super.transform(value, metadata);
    if (metadata.type === 'body' && typeof result === 'object' && result !== null) {
      const problems = nestedArrayProblems(result);
      if (problems.length > 0) throw new InvalidRequestError(problems.join('; '));
    }
    return result;
  }

  /** class-validator is asked only when the compiled rules find something wrong, to word it. */
  protected override validate(
    object: object,
    validatorOptions?: ValidatorOptions,
  ): Promise<ValidationError[]> | ValidationError[] {
    return passesValidation(object, true) ? [] : super.validate(object, validatorOptions);
  }
}

/** A path or query id that must be a UUID: 400 `REQUEST.INVALID` otherwise. */
export const UUID_PARAM = new ParseUUIDPipe({
  exceptionFactory: () => new InvalidRequestError('id must be a UUID'),
});
