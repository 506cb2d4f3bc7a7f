import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { InvalidTokenError, mintToken, TokenVerifier } from './token-verifier';

/** An identity provider as production has one: RS256/ES256 keys published as a JWKS over HTTP. */
describe('TokenVerifier with a JWKS', () => {
  let server: Server;
  let jwksUrl: string;
  let keys: JWK[] = [];
  let fetches = 0;
  const issuer = 'https://idp.example';
  const audience = 'saga-api';

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  async function publishKey(alg: 'RS256' | 'ES256', kid: string) {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    keys = [...keys, { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }];
    return (claims: Record<string, unknown>, sub = 'alice') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, kid })
        .setSubject(sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
  }

  it('verifies RS256 and ES256 tokens, and fetches a rotated-in key when a token names it', async () => {
    const verifier = new TokenVerifier({ jwksUrl, issuer, audience, jwksCooldownMs: 0 });
    const signRsa = await publishKey('RS256', 'rsa-1');
    const principal = await verifier.verify(
      await signRsa({ roles: ['operator'], tenantId: 'acme' }),
    );
    expect(principal).toMatchObject({ sub: 'alice', tenantId: 'acme', roles: ['operator'] });
    expect(principal.can('audit:read')).toBe(true);

    const before = fetches;
    const signEc = await publishKey('ES256', 'ec-2');
    expect((await verifier.verify(await signEc({ roles: [] }, 'bob'))).sub).toBe('bob');
    expect(fetches).toBe(before + 1);
  });

  it('refuses an HS256 token signed with any secret (no algorithm confusion)', async () => {
    const verifier = new TokenVerifier({ jwksUrl, issuer, audience });
    const token = await mintToken(
      { sub: 'mallory', roles: ['operator'] },
      { issuer, audience, secret: 'x'.repeat(40) },
    );
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses claims of the wrong shape', async () => {
    const verifier = new TokenVerifier({ jwksUrl, issuer, audience });
    const sign = await publishKey('RS256', 'rsa-3');
    for (const claims of [
      { roles: 'operator' },
      { roles: [{ name: 'operator' }] },
      { roles: [], tenantId: 'a b' },
      { roles: [], tenantId: 42 },
    ]) {
      await expect(verifier.verify(await sign(claims))).rejects.toBeInstanceOf(InvalidTokenError);
    }
    for (const sub of ['a\u0000b', 'a\ud800b']) {
      await expect(verifier.verify(await sign({ roles: [] }, sub))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    }
  });

  it('requires exp', async () => {
    const verifier = new TokenVerifier({ jwtSecret: 'y'.repeat(40), issuer, audience });
    const token = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(issuer)
      .setAudience(audience)
      .sign(new TextEncoder().encode('y'.repeat(40)));
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
