import { ArgumentsHost, Catch, INestApplication } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { Observable, throwError } from 'rxjs';
import { JetStreamTransport } from './jetstream.transport';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';

/**
 * Nest's default RPC filter swaps any handler error for a generic object, but the transport needs
 * the original to tell a permanent failure from a transient one. HTTP errors keep Nest's handling.
 */
@Catch()
class KeepHandlerErrors extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    super.catch(exception, host);
  }
}

/** Attaches the JetStream transport to an HTTP app and starts its consumers, in a worker. */
export async function connectJetStream(app: INestApplication): Promise<void> {
  if (!app.get<MessagingOptions>(MESSAGING_OPTIONS).worker) return;
  // connectMicroservice registers the handlers at once: the filter must be in the app config first.
  app.useGlobalFilters(new KeepHandlerErrors(app.getHttpAdapter()));
  app.connectMicroservice({ strategy: app.get(JetStreamTransport) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
}
