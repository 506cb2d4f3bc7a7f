import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { developmentPassword } from '../../infra/nats/permissions';
import { freePort, startNatsServer } from '../../tests/harness/nats-server';
import { ensureNats } from './local-services';

describe('npm run dev and NATS', () => {
  let dataDir: string;
  let said: string[];
  const log = (message: string) => said.push(message);

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'saga-dev-nats-'));
    said = [];
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('says loudly that a running server which lets anyone in enforces no permissions', async () => {
    const anonymous = await startNatsServer({ permissions: false });
    try {
      expect(await ensureNats(anonymous.url, dataDir, log)).toBeUndefined();
      expect(said.join('\n')).toContain(
        `WARNING: the NATS server at ${anonymous.url} accepts anonymous clients and enforces NO permissions`,
      );
    } finally {
      await anonymous.destroy();
    }
  });

  it('uses a running server with users quietly', async () => {
    const secured = await startNatsServer();
    try {
      expect(await ensureNats(secured.url, dataDir, log)).toBeUndefined();
      expect(said).toEqual([`NATS is up at ${secured.url}; the apps connect as their own users`]);
    } finally {
      await secured.destroy();
    }
  });

  it('starts nats-server with the generated users when nothing answers', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const started = await ensureNats(url, dataDir, log);
    try {
      await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(
        /Authorization Violation/,
      );
      const order = await connect({
        servers: url,
        user: 'order',
        pass: developmentPassword('order'),
      });
      await order.close();
    } finally {
      await started?.stop();
    }
  });
});
