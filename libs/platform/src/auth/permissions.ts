/**
 * Who may do what: the one table that maps the roles a token carries to domain permissions.
 * Handlers ask for a permission (`@Requires('orders:cancel')`), never for a role.
 */
export const ROLES = ['customer', 'merchant', 'trader', 'operator', 'service'] as const;
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
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  // Ownership narrows these to the customer's own orders and payments (in the repositories).
  customer: ['orders:place', 'orders:read', 'orders:cancel', 'payments:read'],
  merchant: ['products:read', 'products:write', 'reservations:read'],
  trader: ['strategies:read', 'strategies:write'],
  operator: [
    'orders:read',
    'orders:read-any',
    'payments:read',
    'payments:read-any',
    'products:read',
    'reservations:read',
    'strategies:read',
    'audit:read',
  ],
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
