import {
  BaseConfig,
  InvalidTokenError,
  loadConfig,
  mintToken,
  ROLES,
  TokenClaims,
  TokenVerifier,
  tokenVerifierOptions,
} from '@lib/platform';
import { CliError, parseDuration, UsageError } from './cli-io';

/**
 * A development token the apps of this environment accept: HS256 with AUTH_JWT_SECRET (the
 * development secret when unset), their AUTH_ISSUER and AUTH_AUDIENCE. Checked by the apps' own
 * verifier before it is handed out, so a claim they would refuse (a malformed tenant) is an error
 * here. Refused in production, and where the apps trust an identity provider (AUTH_JWKS_URL).
 */
export async function mintDevelopmentToken(
  claims: TokenClaims,
  ttlSeconds: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ token: string; expiresAt: Date }> {
  if (env.NODE_ENV === 'production')
    throw new CliError(
      'token mints development tokens only and is refused with NODE_ENV=production: get tokens from your identity provider',
    );
  const config = loadConfig(BaseConfig, env);
  if (config.AUTH_JWKS_URL)
    throw new CliError(
      'the apps verify tokens with AUTH_JWKS_URL, which a development token does not match: get one from your identity provider',
    );
  const token = await mintToken(claims, {
    secret: tokenVerifierOptions(config).jwtSecret,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    ttlSeconds,
  });
  try {
    await new TokenVerifier(tokenVerifierOptions(config)).verify(token);
  } catch (error) {
    if (error instanceof InvalidTokenError)
      throw new UsageError(`the apps would refuse this token: ${error.message}`);
    throw error;
  }
  return { token, expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
}

export interface TokenOptions {
  sub?: string;
  roles?: string;
  tenant?: string;
  ttl?: string;
}

/** `token --sub alice --roles customer[,operator] [--tenant t1] [--ttl 1h]`: prints a development token. */
export async function tokenCommand(options: TokenOptions, json: boolean): Promise<void> {
  if (!options.sub) throw new UsageError('token needs --sub, the principal (e.g. --sub alice)');
  if (!options.roles)
    throw new UsageError(`token needs --roles, comma-separated: ${ROLES.join(', ')}`);
  const roles = options.roles.split(',').map((role) => role.trim());
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0)
    throw new UsageError(`unknown role ${unknown.join(', ')}; the roles are ${ROLES.join(', ')}`);
  const ttlSeconds = parseDuration(options.ttl ?? '1h', '--ttl') / 1000;
  if (ttlSeconds < 1) throw new UsageError('--ttl must be at least 1s');
  const claims: TokenClaims = { sub: options.sub, roles, tenantId: options.tenant };
  const { token, expiresAt } = await mintDevelopmentToken(claims, ttlSeconds);
  process.stdout.write(
    json
      ? `${JSON.stringify({ token, ...claims, expiresAt: expiresAt.toISOString() }, null, 2)}\n`
      : `${token}\n`,
  );
}
