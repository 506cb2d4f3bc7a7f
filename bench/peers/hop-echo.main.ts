import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';

/*
 * The far end of a hop (durable-hop.ts), with nothing but nats.js: consumes with the durable
 * HOP_DURABLE of HOP_STREAM, publishes each message's body to HOP_REPLY_SUBJECT (awaiting the
 * stream's ack), then acks the delivery. NATS_URL.
 */
async function main(): Promise<void> {
  const env = (name: string) => process.env[name] ?? '';
  const nc = await connect({ servers: env('NATS_URL') });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(env('HOP_STREAM'), env('HOP_DURABLE'));
  const messages = await consumer.consume({ max_messages: 64 });
  process.stdout.write('ready\n');
  for await (const message of messages) {
    await js.publish(env('HOP_REPLY_SUBJECT'), message.data);
    message.ack();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`hop-echo failed: ${String(error)}\n`);
  process.exit(1);
});
