import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyGate, DependencyGates } from '@lib/messaging';
import { isConnectionError } from '@lib/persistence';

/** How often consumers paused by a Postgres outage ask whether it is back. */
const POSTGRES_PROBE_MS = 1000;

/**
 * Postgres as a dependency of the app's consumers: a handler that cannot reach it pauses them all
 * (their messages are held, no delivery spent) until a `SELECT 1` answers again.
 */
@Injectable()
export class PostgresGate implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gates: DependencyGates,
  ) {}

  onModuleInit(): void {
    this.gates.add(
      new DependencyGate('postgres', {
        probe: () => this.dataSource.query('SELECT 1'),
        probeEveryMs: POSTGRES_PROBE_MS,
        isOutage: isConnectionError,
      }),
    );
  }
}
