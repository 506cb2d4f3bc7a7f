/**
 * Each app's Postgres schema, by app name: where its tables and its audit trail live. The apps'
 * persistence takes its schema from here, and the operators' tools (saga-cli, the console) find
 * the audit trail of the app whose stream or consumer they act on here.
 */
export const APP_SCHEMAS = {
  order: 'orders',
  payment: 'payments',
  inventory: 'inventory',
  trading: 'trading',
} as const;

/** The schema of an app by its name, or undefined for a name that is no app. */
export function schemaOfApp(app: string): string | undefined {
  return Object.hasOwn(APP_SCHEMAS, app) ? APP_SCHEMAS[app as keyof typeof APP_SCHEMAS] : undefined;
}
