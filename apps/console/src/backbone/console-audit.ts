import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { OperationsAudit } from '@lib/operations';
import { ConsoleConfig } from '../config';
import { CONSOLE_CONFIG } from '../console-config.token';

/**
 * The audit trail of the console's dead-letter replays and purges: saga-cli's (libs/operations),
 * written as the console's Postgres role (DATABASE_URL, `saga_console`: INSERT on each app's
 * audit_log, nothing else) into the trail of the app whose consumer the letters are from.
 */
@Injectable()
export class ConsoleAudit extends OperationsAudit implements OnApplicationShutdown {
  constructor(@Inject(CONSOLE_CONFIG) config: ConsoleConfig) {
    super(config.DATABASE_URL, 2);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
