import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { BaseConfig, loadConfig, natsSettingsOf } from '@lib/platform';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { MESSAGING_DEFAULTS } from './messaging.options';
import { natsConnectOptions } from './nats-connection';
import { NatsClient } from './nats.client';

/** A throwaway CA, and a server and a client certificate it signed, as PEM files in `dir`. */
function makeCertificates(
  dir: string,
): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=saga test CA',
    '-keyout',
    path('ca-key.pem'),
    '-out',
    path('ca.pem'),
  );
  const sign = (name: string, subject: string, extensions: string) => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      path(`${name}-key.pem`),
      '-out',
      path(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      path(`${name}.ext`),
      '-out',
      path(`${name}.pem`),
    );
  };
  sign(
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  sign('client', '/CN=order', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server-key.pem'),
    clientCert: path('client.pem'),
    clientKey: path('client-key.pem'),
  };
}

describe('the NATS connection an app makes from its config', () => {
  describe('on a nats-server that requires TLS and client certificates', () => {
    let dir: string;
    let certs: ReturnType<typeof makeCertificates>;
    let nats: TestNatsServer;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'saga-nats-tls-'));
      certs = makeCertificates(dir);
      nats = await startNatsServer({
        extraConfig: `
tls {
  cert_file: "${certs.serverCert}"
  key_file: "${certs.serverKey}"
  ca_file: "${certs.ca}"
  verify: true
}
`,
      });
    });

    afterAll(async () => {
      await nats?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('connects with NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY, as its own user', async () => {
      const config = loadConfig(BaseConfig, {
        ...nats.env('order'),
        NATS_TLS_CA: certs.ca,
        NATS_TLS_CERT: certs.clientCert,
        NATS_TLS_KEY: certs.clientKey,
      });
      const client = new NatsClient({
        ...MESSAGING_DEFAULTS,
        service: 'order',
        natsUrl: config.NATS_URL,
        natsIdentity: natsSettingsOf(config),
      });
      try {
        await client.connect();
        expect(client.nc.info?.tls_required).toBe(true);
        expect((await client.js.publish('order.failed.v1', '{}')).stream).toBe('ORDERS');
      } finally {
        await client.onApplicationShutdown();
      }
    });

    it('refuses a client that does not trust the CA, or has no certificate', async () => {
      const settings = { url: nats.url, user: 'order', password: nats.env('order').NATS_PASSWORD };
      const attempt = (tls: object) =>
        connect({
          ...natsConnectOptions({ ...settings, ...tls }),
          reconnect: false,
          timeout: 3000,
        });
      await expect(
        attempt({ tlsCertFile: certs.clientCert, tlsKeyFile: certs.clientKey }),
      ).rejects.toThrow(/certificate/i);
      await expect(attempt({ tlsCaFile: certs.ca })).rejects.toThrow();
    });
  });

  it('connects with NATS_NKEY_SEED to a server that knows the nkey, and not without it', async () => {
    const user = nkeys.createUser();
    const nats = await startNatsServer({
      permissions: false,
      extraConfig: `authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }\n`,
    });
    try {
      const config = loadConfig(BaseConfig, {
        NATS_URL: nats.url,
        NATS_NKEY_SEED: new TextDecoder().decode(user.getSeed()),
      });
      const nc = await connect(natsConnectOptions(natsSettingsOf(config)));
      await nc.flush();
      await nc.close();
      await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(
        /Authorization Violation/i,
      );
    } finally {
      await nats.destroy();
    }
  });
});
