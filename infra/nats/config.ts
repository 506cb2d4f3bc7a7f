import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { renderServerConfig, SERVER_CONFIG_PATH } from './permissions';

/** `npm run nats:config`: rewrites the generated nats-server configuration from the contracts. */
writeFileSync(SERVER_CONFIG_PATH, renderServerConfig());
process.stdout.write(`wrote ${SERVER_CONFIG_PATH}\n`);
