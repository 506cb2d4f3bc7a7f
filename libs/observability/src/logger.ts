import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { currentLogContext } from './log-context';
import { traceLogFields } from './tracing';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Paths of credentials in what the platform logs (a request's headers, a config, a payment or a
 * Stripe object, an error) and of the data a logged error carries: a database error's SQL, its
 * bound parameters (a batched statement holds other customers' rows) and Postgres' detail and
 * context lines, which quote values ("Key (sku)=(...)", "Failing row contains (...)"); a Stripe
 * error's raw response and PaymentIntent (with its client secret). Exact paths only: a wildcard
 * makes pino walk every line's fields and costs 3 to 15 times the line itself.
 */
const SECRET_FIELDS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'clientSecret',
  'client_secret',
  'payment.clientSecret',
  'intent.client_secret',
  'paymentIntent.client_secret',
  'stripeSecretKey',
  'webhookSecret',
  ...['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'AUTH_JWT_SECRET', 'DATABASE_URL'].flatMap(
    (variable) => [variable, `config.${variable}`],
  ),
];
const ERROR_DATA_FIELDS = [
  'query',
  'parameters',
  'driverError',
  'detail',
  'where',
  'raw',
  'payment_intent',
];
export const REDACTED_PATHS = [
  ...SECRET_FIELDS,
  ...ERROR_DATA_FIELDS.flatMap((field) => [`err.${field}`, `error.${field}`]),
];

/**
 * JSON logs on stdout (or `destination`); every line carries the service and the ids of the
 * current request or event (and of its span, when tracing is on), and none carries a secret or a database error's data.
 */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // A copy: pino merges each line's fields into what the mixin returns.
    mixin: () => ({ ...currentLogContext(), ...traceLogFields() }),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Routes Nest's own logging (and every `new Logger(context)`) into pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes `(message, ...optionalParams, context)`; an Error or an object becomes structured fields. */
  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    // Hot paths log at info: below the configured level, skip building the fields.
    if (!this.logger.isLevelEnabled(level)) return;
    const params = [...rest];
    const context = typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    for (const param of params) {
      if (param instanceof Error) fields.err = param;
      else if (typeof param === 'string') fields.stack = param;
      else if (param && typeof param === 'object') Object.assign(fields, param);
    }
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (message && typeof message === 'object') this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}
