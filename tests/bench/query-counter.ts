/*
 * Preloaded into the apps by bench:saga (see countingStatements): counts the statements the process
 * sends to Postgres and writes the count to $QUERY_COUNT_DIR/<pid> on SIGUSR2.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

let statements = 0;
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(this: Client, ...args: unknown[]) {
  statements++;
  return (query as (...args: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;
process.on('SIGUSR2', () => {
  writeFileSync(join(process.env.QUERY_COUNT_DIR!, String(process.pid)), String(statements));
});
