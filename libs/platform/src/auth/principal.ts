import { Permission, permissionsOf } from './permissions';

/** The tenant of a token that names none, and of events that carry no `tenantId`. */
export const DEFAULT_TENANT = 'default';

/** Who calls: the verified claims of a bearer token. */
export class Principal {
  readonly permissions: ReadonlySet<Permission>;

  constructor(
    readonly sub: string,
    readonly roles: readonly string[],
    readonly tenantId: string = DEFAULT_TENANT,
  ) {
    this.permissions = permissionsOf(roles);
  }

  can(permission: Permission): boolean {
    return this.permissions.has(permission);
  }

  /**
   * What a read of the principal's resources is limited to: always its tenant, and its own rows
   * (`ownerId`) unless it holds `anyPermission` (an operator reading every customer's orders).
   */
  scope(anyPermission: Permission): Scope {
    return { tenantId: this.tenantId, ownerId: this.can(anyPermission) ? undefined : this.sub };
  }

  /**
   * The tenant a view across tenants (the operators' saga API) is limited to: the token's, or
   * undefined (every tenant) for a principal holding `tenants:all`.
   */
  visibleTenant(): string | undefined {
    return this.can('tenants:all') ? undefined : this.tenantId;
  }
}

/** The rows a query may touch: one tenant's, and one owner's when `ownerId` is set. */
export interface Scope {
  tenantId: string;
  ownerId?: string;
}
