import { jetstreamManager } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { STREAMS } from '@lib/contracts';
import { TestNatsCluster } from '../../../tests/harness/nats-cluster';
import { ensureStreams } from './stream-setup';

describe('stream setup on a fresh three-node cluster', () => {
  let cluster: TestNatsCluster;
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    cluster = await TestNatsCluster.start(3);
  });

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    await cluster?.destroy();
  });

  // nats-server 2.9 answers neither of two creations of one replicated stream that arrive
  // together: both time out, as two apps booting at once did.
  it('creates every R3 stream when two apps set them up at the same time', async () => {
    const urls = cluster.nodes.map((node) => node.url);
    const managers = await Promise.all(
      [urls, [...urls].reverse()].map(async (servers) => {
        const nc = await connect({ servers });
        connections.push(nc);
        return jetstreamManager(nc);
      }),
    );
    await Promise.all(managers.map((jsm) => ensureStreams(jsm, 3, 'operator')));

    for (const { name } of STREAMS) {
      const info = await managers[0]!.streams.info(name);
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.leader).toBeTruthy();
    }
  }, 90_000);
});
