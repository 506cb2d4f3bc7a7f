import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The token of `/_control/` when STRIPE_LOCAL_CONTROL_TOKEN names none: what `npm run dev`, the
 * demo and the tests use on this machine. The control API confirms payments and injects faults:
 * give a server that others can reach (a non-loopback STRIPE_LOCAL_HOST) a token of its own.
 */
export const DEV_STRIPE_LOCAL_CONTROL_TOKEN = 'dev-only-stripe-local-control-token';

/** The header a client may send the token in instead of `Authorization: Bearer`. */
export const CONTROL_TOKEN_HEADER = 'stripe-local-control-token';

/** The control token of the environment (dev and demo read the same variable as the server). */
export function controlTokenOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.STRIPE_LOCAL_CONTROL_TOKEN || DEV_STRIPE_LOCAL_CONTROL_TOKEN;
}

/** True when the request carries `token` as a bearer token or in the control-token header. */
export function carriesControlToken(headers: IncomingHttpHeaders, token: string): boolean {
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
  const header = headers[CONTROL_TOKEN_HEADER];
  const sent = bearer ?? (typeof header === 'string' ? header : undefined);
  if (sent === undefined) return false;
  const [a, b] = [Buffer.from(sent), Buffer.from(token)];
  return a.length === b.length && timingSafeEqual(a, b);
}
