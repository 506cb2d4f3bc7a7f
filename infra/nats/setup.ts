import 'reflect-metadata';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { STREAMS, SUBSCRIPTIONS } from '@lib/contracts';
import { ensureConsumer, ensureStreams, natsConnectOptions } from '@lib/messaging';
import { BaseConfig, loadConfig, natsSettingsOf } from '@lib/platform';

/** `npm run nats:setup`: creates or updates every stream and every app's durable consumers. */
async function main(): Promise<void> {
  const config = loadConfig(BaseConfig);
  const nc = await connect({ ...natsConnectOptions(natsSettingsOf(config)), timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, config.NATS_STREAM_REPLICAS, 'operator');
    process.stdout.write(`streams: ${STREAMS.map((s) => s.name).join(', ')}\n`);
    for (const [service, subjects] of Object.entries(SUBSCRIPTIONS)) {
      for (const subject of subjects) {
        const { stream, durable } = await ensureConsumer(jsm, service, subject, {
          maxDeliver: config.NATS_MAX_DELIVER,
          ackWaitMs: config.NATS_ACK_WAIT_MS,
        });
        process.stdout.write(`consumer: ${stream}/${durable}\n`);
      }
    }
  } finally {
    await nc.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`nats:setup: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
