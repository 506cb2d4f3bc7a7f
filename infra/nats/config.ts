import 'reflect-metadata';
import { chmodSync, writeFileSync } from 'node:fs';
import {
  NSC_SCRIPT_PATH,
  renderNscScript,
  renderServerConfig,
  SERVER_CONFIG_PATH,
} from './permissions';

/** `npm run nats:config`: rewrites the generated NATS configuration from the contracts. */
writeFileSync(SERVER_CONFIG_PATH, renderServerConfig());
writeFileSync(NSC_SCRIPT_PATH, renderNscScript());
chmodSync(NSC_SCRIPT_PATH, 0o755);
process.stdout.write(`wrote ${SERVER_CONFIG_PATH}\nwrote ${NSC_SCRIPT_PATH}\n`);
