/*
 * Preloaded into the apps by bench:saga (see countingStatements): counts the statements the process
 * sends to Postgres and prints the count on stderr on SIGUSR2 (`query-counter: <n>`), where the
 * bench reads it: no files, so a run leaves nothing behind, even one that is killed.
 */
import { Client } from 'pg';

let statements = 0;
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(this: Client, ...args: unknown[]) {
  statements++;
  return (query as (...args: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;
process.on('SIGUSR2', () => {
  process.stderr.write(`query-counter: ${statements}\n`);
});
