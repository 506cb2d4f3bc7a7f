import { NatsConnectionSettings } from '@lib/messaging';
import { BaseConfig } from './base.config';

/** The NATS connection an app, the CLI or the setup command makes with `config`. */
export function natsSettingsOf(config: BaseConfig): NatsConnectionSettings {
  return {
    url: config.NATS_URL,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    nkeySeed: config.NATS_NKEY_SEED,
    credsFile: config.NATS_CREDS,
    tlsCaFile: config.NATS_TLS_CA,
    tlsCertFile: config.NATS_TLS_CERT,
    tlsKeyFile: config.NATS_TLS_KEY,
  };
}
