import { mintToken, TokenClaims } from '@lib/platform';

const minted = new Map<string, Promise<string>>();

/**
 * A development token (the apps' default secret, issuer and audience) for a principal: tests call
 * the apps as a client of that role would. One per principal and process, valid for a day.
 */
export function tokenFor(sub: string, roles: string[], tenantId?: string): Promise<string> {
  const claims: TokenClaims = { sub, roles, tenantId };
  const key = JSON.stringify(claims);
  let token = minted.get(key);
  if (!token) {
    token = mintToken(claims, { ttlSeconds: 24 * 3600 });
    minted.set(key, token);
  }
  return token;
}

/** `{ authorization: 'Bearer …' }` for fetch or supertest. */
export async function bearer(
  sub: string,
  roles: string[],
  tenantId?: string,
): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await tokenFor(sub, roles, tenantId)}` };
}

/** The principals most suites act as. */
export const OPERATOR = { sub: 'operator-1', roles: ['operator'] };
export const MERCHANT = { sub: 'merchant-1', roles: ['merchant'] };
export const TRADER = { sub: 'trader-1', roles: ['trader'] };
export const asCustomer = (sub = 'customer-1') => bearer(sub, ['customer']);
export const asOperator = () => bearer(OPERATOR.sub, OPERATOR.roles);
export const asMerchant = () => bearer(MERCHANT.sub, MERCHANT.roles);
export const asTrader = () => bearer(TRADER.sub, TRADER.roles);
