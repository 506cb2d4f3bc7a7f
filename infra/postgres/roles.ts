import 'reflect-metadata';
import { DEV_DATABASE_URL } from '@lib/platform';
import { ensureDevRoles } from './app-roles';

/**
 * `npm run db:roles [-- <superuser URL>]`: creates the development roles (the schema owner and one
 * role per app, each with its name as password) on the local Postgres. Run by
 * infra/local/ensure-services.sh; production roles are the DBA's (docs/security.md).
 */
const adminUrl = process.argv[2] ?? DEV_DATABASE_URL;

ensureDevRoles(adminUrl).then(
  () => process.stdout.write('db:roles: saga_owner and the app roles are ready\n'),
  (error: unknown) => {
    process.stderr.write(`db:roles: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
