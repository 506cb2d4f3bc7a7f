import { AppProcess, startAppProcess } from '../harness/app-process';
import { appDatabaseEnv, freshSchema } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { eventually } from '../harness/wait';

/**
 * The platform on NATS accounts, as production runs it (docs/security.md): nats-server 2.9 in
 * operator mode with a memory resolver, the account and user JWTs signed by the test, and every
 * app connecting with nothing but its `.creds` file (NATS_CREDS) and the generated permissions.
 */
describe('the apps on NATS accounts with .creds files', () => {
  let system: SagaSystem;
  let trading: AppProcess | undefined;

  beforeAll(async () => {
    system = await SagaSystem.start({ natsAccounts: true, paymentApp: {} });
  }, 120_000);

  afterAll(async () => {
    await trading?.stop();
    await system?.stop();
  });

  it('gives each app its credentials file and no password', () => {
    for (const app of ['order', 'payment', 'inventory', 'trading']) {
      const env = system.natsEnv(app);
      expect(Object.keys(env).sort()).toEqual(['NATS_CREDS', 'NATS_URL']);
      expect(env.NATS_CREDS).toMatch(new RegExp(`/${app}\\.creds$`));
    }
  });

  it('completes an order paid with 4242: order, inventory and payment publish and consume as account users', async () => {
    await system.putProduct('CREDS-1', 3, 2500);
    const orderId = await system.placeOrder([{ sku: 'CREDS-1', quantity: 2 }]);
    const { paymentIntentId } = await system.untilPayment(orderId, 'PENDING');
    await system.stripe!.confirm(paymentIntentId!, '4242424242424242');

    const order = await system.untilSaga(orderId, 'COMPLETED');
    expect(order).toMatchObject({ status: 'CONFIRMED', totalMinor: 5000 });
    await system.untilPayment(orderId, 'SUCCEEDED');
    await eventually(async () => (await system.product('CREDS-1')).committed === 2);
  }, 60_000);

  it('boots the trading app on its credentials file: it creates its stream and consumers', async () => {
    await freshSchema('trading');
    trading = await startAppProcess('trading', {
      ...(await appDatabaseEnv('trading')),
      ...system.natsEnv('trading'),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    });
    const ready = await fetch(`${trading.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect((await system.jsm.streams.info('TRADING')).config.subjects).toEqual(['trading.>']);
  }, 60_000);
});
