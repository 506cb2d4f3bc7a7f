import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { errorMessage } from '@lib/messaging';

/**
 * Which live strategies this instance ticks: a Postgres session advisory lock per strategy, all held
 * on one dedicated connection. Postgres releases them when that connection dies, so the strategies
 * of a killed instance are free for the next one that asks; if the connection is lost here, this
 * instance stops ticking them at once, since it may no longer hold them.
 */
@Injectable()
export class StrategyLeases implements OnApplicationShutdown {
  private readonly logger = new Logger(StrategyLeases.name);
  private readonly url: string;
  private readonly schema: string;
  private client?: Promise<Client>;
  private readonly held = new Set<string>();

  constructor(dataSource: DataSource) {
    const options = dataSource.options as PostgresConnectionOptions;
    this.url = options.url!;
    this.schema = options.schema!;
  }

  /**
   * Keeps the leases of `wanted` this instance holds, tries to take the others, and gives up the
   * ones no longer wanted. Returns the strategies held now.
   */
  async claim(wanted: string[]): Promise<ReadonlySet<string>> {
    const client = await this.connection();
    for (const id of this.held) {
      if (wanted.includes(id)) continue;
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.key(id)]);
      this.held.delete(id);
    }
    for (const id of wanted) {
      if (this.held.has(id)) continue;
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [this.key(id)],
      );
      if (rows[0]?.locked) {
        this.held.add(id);
        this.logger.log({ msg: 'strategy lease taken', strategyId: id });
      }
    }
    return new Set(this.held);
  }

  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held.clear();
    // Closing the session releases every lease at once.
    await (await client?.catch(() => undefined))?.end().catch(() => undefined);
  }

  /** Per schema, so test suites on other schemas of one database do not share leases. */
  private key(strategyId: string): string {
    return `trading-lease:${this.schema}:${strategyId}`;
  }

  private connection(): Promise<Client> {
    this.client ??= this.connect();
    return this.client;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.url });
    client.on('error', (error) => {
      this.logger.warn({ msg: 'lease connection lost, leases dropped', error: error.message });
      this.held.clear();
      this.client = undefined;
      void client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      return client;
    } catch (error) {
      this.client = undefined;
      this.logger.warn({ msg: 'lease connection failed', error: errorMessage(error) });
      throw error;
    }
  }
}
