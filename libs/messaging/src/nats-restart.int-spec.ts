import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createEvent, InventoryLowStockV1 } from '@lib/contracts';
import { BaseConfig } from '@lib/platform';
import { freshSchema, query } from '../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { OPERATOR_USER } from '../../../infra/nats/permissions';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { eventually, sleep } from '../../../tests/harness/wait';
import { EFFECTS_TABLE_SQL, ProbeModule } from '../test/probe.app';
import { Outbox } from './outbox';

const SCHEMA = 'messaging_restart_test';
const SERVICE = 'restart-probe';
const EVENTS = 300;

describe('a NATS restart mid-stream', () => {
  let nats: TestNatsServer;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    nats = await startNatsServer();
    await freshSchema(SCHEMA);
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER));
    app = await startPlatformApp(ProbeModule.forRoot(SERVICE, SCHEMA, config), SERVICE, config);
    await query(EFFECTS_TABLE_SQL(SCHEMA));
  });

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
  });

  it('loses nothing and applies every event exactly once, and readiness follows NATS', async () => {
    const outbox = app.get(Outbox);
    const dataSource = app.get(DataSource);
    const http = app.getHttpServer();
    await request(http).get('/health/ready').expect(200);

    // Events keep being committed to the outbox before, during and after the outage.
    const writer = (async () => {
      for (let i = 0; i < EVENTS; i++) {
        const event = createEvent(InventoryLowStockV1, {
          sku: `RESTART-${i}`,
          available: 0,
          threshold: 1,
        });
        await dataSource.transaction((manager) => outbox.add(manager, [event]));
        await sleep(5);
      }
    })();

    await eventually(async () => (await countEffects()) > 20, { what: 'consumption to start' });
    await nats.stop();
    const down = await eventually(
      async () => {
        const res = await request(http).get('/health/ready');
        return res.status === 503 ? res : undefined;
      },
      { what: '/health/ready to answer 503' },
    );
    expect(down.body).toMatchObject({ status: 'error', error: { nats: { status: 'down' } } });
    await request(http).get('/health/live').expect(200);
    await sleep(1500);
    await nats.start();

    await eventually(async () => (await request(http).get('/health/ready')).status === 200, {
      what: '/health/ready to answer 200 again',
    });
    await writer;
    await eventually(async () => (await countEffects()) === EVENTS, {
      timeoutMs: 60_000,
      what: `${EVENTS} effects`,
    });
    const perEvent = await query<{ copies: number }>(
      `SELECT count(*)::int AS copies FROM ${SCHEMA}.effects GROUP BY event_id HAVING count(*) > 1`,
    );
    expect(perEvent).toEqual([]);
    const pending = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE published_at IS NULL`,
    );
    expect(pending[0]?.n).toBe(0);
  }, 120_000);

  async function countEffects(): Promise<number> {
    const rows = await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.effects`);
    return rows[0]?.n ?? 0;
  }
});
