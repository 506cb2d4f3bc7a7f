/**
 * Who may do what: the one table that maps the roles a token carries to domain permissions.
 * Handlers ask for a permission (`@Requires('orders:cancel')`), never for a role.
 */
export const ROLES = [
  'customer',
  'merchant',
  'trader',
  'operator',
  'platform-operator',
  'service',
] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'orders:place',
  'orders:read',
  'orders:cancel',
  /** Orders of every customer of the tenant, not only the principal's own. */
  'orders:read-any',
  'payments:read',
  'payments:read-any',
  'products:read',
  'products:write',
  'reservations:read',
  'strategies:read',
  'strategies:write',
  'audit:read',
  /** The operators' read model of the sagas: lists, counts, search, one saga's detail. */
  'sagas:read',
  /** Operator actions on sagas: retry the awaited step, force compensation, resolve. */
  'sagas:act',
  /** Reads and actions that take a tenant filter see every tenant, not only the token's. */
  'tenants:all',
  /**
   * The event backbone as the console shows it: streams, consumers and the dead letters, which
   * hold every tenant's events. The platform's, not a tenant's.
   */
  'streams:read',
  /** Replaying and purging dead letters (the console; saga-cli acts with the operator's NATS user). */
  'streams:act',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** An operator of one tenant: the token's. */
const OPERATOR_PERMISSIONS: readonly Permission[] = [
  'orders:read',
  'orders:read-any',
  'payments:read',
  'payments:read-any',
  'products:read',
  'reservations:read',
  'strategies:read',
  'audit:read',
  'sagas:read',
  'sagas:act',
];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  // Ownership narrows these to the customer's own orders and payments (in the repositories).
  customer: ['orders:place', 'orders:read', 'orders:cancel', 'payments:read'],
  merchant: ['products:read', 'products:write', 'reservations:read'],
  trader: ['strategies:read', 'strategies:write'],
  operator: OPERATOR_PERMISSIONS,
  // The platform's own operators (the console's users): an operator of every tenant, and of the
  // event backbone all tenants share.
  'platform-operator': [...OPERATOR_PERMISSIONS, 'tenants:all', 'streams:read', 'streams:act'],
  // Machine callers get permissions here when one needs them; none calls the apps over HTTP today.
  service: [],
};

/** The permissions of a set of role names; names that are not roles grant nothing. */
export function permissionsOf(roles: readonly string[]): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) {
    if (!Object.hasOwn(ROLE_PERMISSIONS, role)) continue;
    for (const permission of ROLE_PERMISSIONS[role as Role]) granted.add(permission);
  }
  return granted;
}
