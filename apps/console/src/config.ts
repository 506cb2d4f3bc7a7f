import { IsOptional, IsUrl, Matches } from 'class-validator';
import { BaseConfig, IntVariable } from '@lib/platform';

const APP_URL = { require_tld: false, protocols: ['http', 'https'], require_protocol: true };

/**
 * The console's settings: where the apps answer (it calls their APIs with the operator's own
 * token), how it links a trace, and the platform's (NATS as its own user, Postgres as its own
 * role, which only writes audit records; token verification as the apps do it).
 */
export class ConsoleConfig extends BaseConfig {
  override PORT = 3005;

  @IsOptional()
  @IsUrl(APP_URL, { message: 'ORDER_API_URL must be an http(s) URL' })
  ORDER_API_URL = 'http://127.0.0.1:3001';

  @IsOptional()
  @IsUrl(APP_URL, { message: 'PAYMENT_API_URL must be an http(s) URL' })
  PAYMENT_API_URL = 'http://127.0.0.1:3002';

  @IsOptional()
  @IsUrl(APP_URL, { message: 'INVENTORY_API_URL must be an http(s) URL' })
  INVENTORY_API_URL = 'http://127.0.0.1:3003';

  /**
   * A trace in the tracing UI, `{traceId}` standing for the id, e.g.
   * `http://127.0.0.1:16686/trace/{traceId}` (Jaeger); unset, the console shows the id only.
   */
  @IsOptional()
  @Matches(/^https?:\/\/\S*\{traceId\}\S*$/, {
    message: 'CONSOLE_TRACE_URL must be an http(s) URL containing {traceId}',
  })
  CONSOLE_TRACE_URL?: string = undefined;

  /** The "stuck" preset: sagas past their deadline, or in a non-final state this long (ms). */
  @IntVariable('CONSOLE_STUCK_AFTER_MS', 1000)
  CONSOLE_STUCK_AFTER_MS = 5 * 60_000;
}
