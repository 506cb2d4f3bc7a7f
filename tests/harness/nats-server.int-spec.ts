import { freePort, startNatsServer } from './nats-server';

describe('the nats-server the tests and benchmarks start (and npm run dev, through natsServerEnv)', () => {
  it('runs one Go scheduler thread, as it shares the machine with the apps and Postgres', async () => {
    const monitoring = await freePort();
    const server = await startNatsServer({ extraConfig: `\nhttp: 127.0.0.1:${monitoring}\n` });
    try {
      const varz = (await (await fetch(`http://127.0.0.1:${monitoring}/varz`)).json()) as {
        gomaxprocs: number;
      };
      expect(varz.gomaxprocs).toBe(1);
    } finally {
      await server.destroy();
    }
  });
});
