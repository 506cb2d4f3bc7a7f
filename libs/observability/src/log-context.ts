import { AsyncLocalStorage } from 'node:async_hooks';

/** Ids that follow a request or an event through every log line written while handling it. */
export interface LogContext {
  correlationId?: string;
  eventId?: string;
  sagaId?: string;
  [key: string]: string | undefined;
}

const storage = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer ? { ...outer, ...context } : context, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
