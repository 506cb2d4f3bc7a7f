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

  it('says loudly that a server NATS_URL names which lets anyone in enforces no permissions', async () => {
    const anonymous = await startNatsServer({ permissions: false });
    try {
      expect(await ensureNats(anonymous.url, dataDir, log)).toEqual({ url: anonymous.url });
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
      expect(await ensureNats(secured.url, dataDir, log)).toEqual({ url: secured.url });
      expect(said).toEqual([`NATS is up at ${secured.url}; the apps connect as their own users`]);
    } finally {
      await secured.destroy();
    }
  });

  it('starts nats-server with the generated users when nothing answers', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const { url: used, started } = await ensureNats(url, dataDir, log);
    try {
      expect(used).toBe(url);
      await expectGeneratedUsers(url);
    } finally {
      await started?.stop();
    }
  });

  it('passes over a default server that lets anyone in, and starts one with the generated users beside it', async () => {
    const anonymous = await startNatsServer({ permissions: false });
    const ownUrl = `nats://127.0.0.1:${await freePort()}`;
    try {
      const { url, started } = await ensureNats(anonymous.url, dataDir, log, ownUrl);
      try {
        expect(url).toBe(ownUrl);
        expect(started).toBeDefined();
        await expectGeneratedUsers(ownUrl);
        expect(said.join('\n')).toContain(
          `the NATS server at ${anonymous.url} lets anyone in: using ${ownUrl} with the generated users instead`,
        );
        expect(said.join('\n')).not.toContain('WARNING');
      } finally {
        await started?.stop();
      }
    } finally {
      await anonymous.destroy();
    }
  });
});

/** Strangers are refused; an app gets in as its own user. */
async function expectGeneratedUsers(url: string): Promise<void> {
  await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(
    /Authorization Violation/,
  );
  const order = await connect({ servers: url, user: 'order', pass: developmentPassword('order') });
  await order.close();
}
