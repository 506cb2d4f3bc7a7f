import { createRemoteJWKSet, errors, JWTPayload, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import { Principal } from './principal';

/** Development secret of `.env.example`: HS256 tokens for `npm run dev`, tests and the CLI. Refused in production. */
export const DEV_AUTH_JWT_SECRET = 'dev-only-saga-platform-jwt-secret-do-not-deploy';
export const DEFAULT_AUTH_ISSUER = 'saga-platform';
export const DEFAULT_AUTH_AUDIENCE = 'saga-platform';

export interface TokenVerifierOptions {
  /** HS256 shared secret (development and tests). */
  jwtSecret?: string;
  /** JWKS of the identity provider (RS256/ES256): the production path. */
  jwksUrl?: string;
  /** Least time between two fetches of the JWKS (jose's default, 30 s, unless given). */
  jwksCooldownMs?: number;
  issuer: string;
  audience: string;
}

/** `exp`/`nbf` slack between this host's clock and the issuer's. */
const CLOCK_TOLERANCE_S = 30;
/** A verified token is trusted this long at most before its signature is checked again. */
const CACHE_TTL_MS = 60_000;
const CACHE_ENTRIES = 10_000;
// Printable: a sub ends up in audit records and log lines.
const SUB_PATTERN = /^[\x20-\x7e\u00a0-\uffff]{1,200}$/;
const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const ROLE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

export class InvalidTokenError extends Error {}

/** The verifier an app's config asks for: its JWKS, else its secret, else (outside production) the development one. */
export function tokenVerifierOptions(config: {
  NODE_ENV: string;
  AUTH_JWKS_URL?: string;
  AUTH_JWT_SECRET?: string;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
}): TokenVerifierOptions {
  const fallback = config.NODE_ENV === 'production' ? undefined : DEV_AUTH_JWT_SECRET;
  return {
    jwksUrl: config.AUTH_JWKS_URL,
    jwtSecret: config.AUTH_JWKS_URL ? undefined : (config.AUTH_JWT_SECRET ?? fallback),
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  };
}

/**
 * Verifies bearer tokens (signature, `iss`, `aud`, `exp` required, `nbf`) and turns their claims
 * into a Principal. A token that verified is cached until it expires (a minute at most), so a
 * client that sends the same token on every request pays for one verification.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly options: TokenVerifierOptions) {
    if (options.jwksUrl) {
      // jose caches the key set and refetches it (rate-limited) when a token names an unknown key.
      this.key = createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.jwksCooldownMs,
      });
      this.algorithms = ['RS256', 'ES256'];
    } else if (options.jwtSecret) {
      this.key = new TextEncoder().encode(options.jwtSecret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('a token verifier needs AUTH_JWKS_URL or AUTH_JWT_SECRET');
    }
  }

  /** The principal of a token verified less than a minute ago (and not expired), if any. */
  verified(token: string): Principal | undefined {
    const cached = this.cache.get(token);
    if (!cached) return undefined;
    if (cached.until > Date.now()) return cached.principal;
    this.cache.delete(token);
    return undefined;
  }

  async verify(token: string): Promise<Principal> {
    const known = this.verified(token);
    if (known) return known;
    const now = Date.now();

    const payload = await this.verifySignature(token);
    const principal = principalOf(payload);
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { principal, until: Math.min(payload.exp! * 1000, now + CACHE_TTL_MS) });
    return principal;
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    const options = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      algorithms: this.algorithms,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp', 'sub'],
    };
    try {
      const { payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options);
      return payload;
    } catch (error) {
      if (error instanceof errors.JOSEError) throw new InvalidTokenError(error.code);
      throw error;
    }
  }
}

function principalOf(payload: JWTPayload): Principal {
  const {
    sub,
    roles = [],
    tenantId,
  } = payload as JWTPayload & {
    roles?: unknown;
    tenantId?: unknown;
  };
  if (typeof sub !== 'string' || !SUB_PATTERN.test(sub) || !sub.isWellFormed())
    throw new InvalidTokenError('bad sub');
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && ROLE_PATTERN.test(r)))
    throw new InvalidTokenError('bad roles');
  if (tenantId !== undefined && (typeof tenantId !== 'string' || !TENANT_PATTERN.test(tenantId)))
    throw new InvalidTokenError('bad tenantId');
  return new Principal(sub, roles as string[], tenantId);
}

export interface TokenClaims {
  sub: string;
  roles: string[];
  tenantId?: string;
}

export interface MintOptions {
  secret?: string;
  issuer?: string;
  audience?: string;
  /** Lifetime in seconds; 1 h by default. */
  ttlSeconds?: number;
  /** Seconds from now before which the token is not valid. */
  notBeforeSeconds?: number;
}

/** An HS256 token, for development, tests and the CLI's `token` command. */
export function mintToken(claims: TokenClaims, options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    roles: claims.roles,
    ...(claims.tenantId && { tenantId: claims.tenantId }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(options.issuer ?? DEFAULT_AUTH_ISSUER)
    .setAudience(options.audience ?? DEFAULT_AUTH_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600));
  if (options.notBeforeSeconds) jwt.setNotBefore(now + options.notBeforeSeconds);
  return jwt.sign(new TextEncoder().encode(options.secret ?? DEV_AUTH_JWT_SECRET));
}
