/*
 * The stand-in payment participant as a process of its own (SagaSystem's `paymentProcess`): answers
 * every payment request on $NATS_URL with success, says "ready" once it consumes, stops on SIGTERM.
 */
import 'reflect-metadata';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { PaymentResponder } from './payment-responder';

async function main(): Promise<void> {
  const nc = await connect({ servers: (process.env.NATS_URL ?? '').split(',') });
  const responder = new PaymentResponder(jetstream(nc), await jetstreamManager(nc));
  await responder.start();
  process.once('SIGTERM', () => {
    void responder
      .stop()
      .then(() => nc.close())
      .then(() => process.exit(0));
  });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`payment responder: ${String(error)}\n`);
  process.exit(1);
});
