import { Injectable, Logger, LoggerService } from '@nestjs/common';

/**
 * Terminus' logger: a failed readiness check is a warning, not an error. The 503 is what moves
 * traffic away, a dependency that is down logs errors of its own, and a probe polled every few
 * seconds during an outage would otherwise flood the error level (and the alerts reading it).
 */
@Injectable()
export class HealthCheckLogger implements LoggerService {
  private readonly logger = new Logger('HealthCheckService');

  log(message: unknown): void {
    this.logger.log(message);
  }
  error(message: unknown): void {
    this.logger.warn(message);
  }
  warn(message: unknown): void {
    this.logger.warn(message);
  }
}
