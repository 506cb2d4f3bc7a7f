import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { currentLogContext } from './log-context';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** JSON logs on stdout; every line carries the service and the ids of the current request or event. */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // A copy: pino merges each line's fields into what the mixin returns.
    mixin: () => ({ ...currentLogContext() }),
  });
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
