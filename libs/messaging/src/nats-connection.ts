import { readFileSync } from 'node:fs';
import {
  ConnectionOptions,
  credsAuthenticator,
  nkeyAuthenticator,
  TlsOptions,
} from '@nats-io/nats-core';

/**
 * Who a process is on the NATS backbone, and how it reaches it. At most one of user/password, an
 * nkey seed or a credentials file (NATS accounts, production); none connects anonymously.
 */
export interface NatsConnectionSettings {
  /** Comma-separated `nats://` or `tls://` URLs. */
  url: string;
  user?: string;
  password?: string;
  /** An nkey user's seed (`SU...`). */
  nkeySeed?: string;
  /** A `.creds` file (JWT and seed) issued for an account user. */
  credsFile?: string;
  /** PEM files: the CA that signed the server's certificate, and a client certificate for mTLS. */
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

/** The nats.js options for `settings`: servers, credentials and TLS. */
export function natsConnectOptions(settings: NatsConnectionSettings): ConnectionOptions {
  const options: ConnectionOptions = { servers: settings.url.split(',') };
  if (settings.user !== undefined) {
    options.user = settings.user;
    options.pass = settings.password;
  } else if (settings.nkeySeed !== undefined) {
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(settings.nkeySeed));
  } else if (settings.credsFile !== undefined) {
    options.authenticator = credsAuthenticator(readFileSync(settings.credsFile));
  }
  const tls: TlsOptions = {
    ...(settings.tlsCaFile === undefined ? {} : { caFile: settings.tlsCaFile }),
    ...(settings.tlsCertFile === undefined ? {} : { certFile: settings.tlsCertFile }),
    ...(settings.tlsKeyFile === undefined ? {} : { keyFile: settings.tlsKeyFile }),
  };
  // Any TLS file, or a tls:// URL, means the connection must be encrypted.
  if (Object.keys(tls).length > 0 || settings.url.includes('tls://')) options.tls = tls;
  return options;
}
