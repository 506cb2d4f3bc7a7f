import { Writable } from 'node:stream';
import { createLogger, PinoNestLogger } from './logger';

describe('createLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    const logger = createLogger(
      'probe',
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    return { logger, lines };
  };

  it('redacts credentials where requests, configs, payments and Stripe objects carry them', () => {
    const { logger, lines } = capture();
    logger.info({
      msg: 'secrets',
      req: { headers: { authorization: 'Bearer leak-1', cookie: 'leak-2', host: 'kept' } },
      headers: { authorization: 'Bearer leak-3' },
      clientSecret: 'pi_1_secret_leak-4',
      payment: { clientSecret: 'pi_2_secret_leak-5', status: 'kept' },
      intent: { client_secret: 'pi_3_secret_leak-6' },
      config: { STRIPE_SECRET_KEY: 'sk_live_leak-7', STRIPE_WEBHOOK_SECRET: 'whsec_leak-8' },
      AUTH_JWT_SECRET: 'leak-9',
    });
    expect(lines[0]).not.toContain('leak');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      req: { headers: { authorization: '[redacted]', host: 'kept' } },
      payment: { clientSecret: '[redacted]', status: 'kept' },
    });
  });

  it("keeps a Stripe error's message but not its raw response or PaymentIntent", () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('Your card was declined.'), {
      type: 'StripeCardError',
      raw: { payment_intent: { client_secret: 'pi_secret_leak' } },
      payment_intent: { client_secret: 'pi_secret_leak' },
    });
    new PinoNestLogger(logger).error(error);
    expect(lines[0]).not.toContain('leak');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'Your card was declined.' });
  });
});
