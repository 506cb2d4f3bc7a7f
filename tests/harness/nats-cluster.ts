import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, JetStreamManager } from '@nats-io/jetstream';
import { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { freePort, natsServerBinary, natsServerEnv, waitForPort } from './nats-server';
import { killOnExit } from './orphans';
import { eventually } from './wait';

/** One member of a test cluster: its own client, route and monitoring ports and its own store. */
export interface ClusterNode {
  /** The `server_name`, which stream and meta leaders are reported by. */
  name: string;
  url: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
}

/**
 * A JetStream cluster of nats-servers on loopback, for one suite. Nodes are killed with SIGKILL
 * and restarted on the same ports and store, as a crashed and rebooted host would be.
 */
export class TestNatsCluster {
  private readonly children = new Map<string, ChildProcess>();
  private connection?: NatsConnection;
  private manager?: JetStreamManager;

  private constructor(
    readonly nodes: ClusterNode[],
    private readonly dir: string,
  ) {}

  /** Starts `size` servers routed to each other and waits until JetStream has a meta leader. */
  static async start(size = 3): Promise<TestNatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'saga-nats-cluster-'));
    // A port just freed can be handed out again: each of the 3 × size must be distinct.
    const ports = new Set<number>();
    while (ports.size < size * 3) ports.add(await freePort());
    const free = [...ports];
    const nodes = Array.from({ length: size }, (_, i): ClusterNode => {
      const port = free[i * 3]!;
      return {
        name: `n${i + 1}`,
        url: `nats://127.0.0.1:${port}`,
        port,
        clusterPort: free[i * 3 + 1]!,
        monitorPort: free[i * 3 + 2]!,
      };
    });
    const cluster = new TestNatsCluster(nodes, dir);
    try {
      for (const node of nodes) cluster.writeConfig(node);
      await Promise.all(nodes.map((node) => cluster.start(node.name)));
      await cluster.untilMetaLeader();
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Every client URL, comma-separated, as NATS_URL takes them. */
  get urls(): string {
    return this.nodes.map((node) => node.url).join(',');
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no cluster node ${name}`);
    return node;
  }

  /** Starts (or restarts, on its old store) one node and waits until it listens. */
  async start(name: string): Promise<void> {
    const node = this.node(name);
    if (this.isRunning(name)) return;
    const child = killOnExit(
      spawn(natsServerBinary(), ['-c', this.configPath(node)], {
        stdio: 'ignore',
        env: natsServerEnv(),
      }),
    );
    this.children.set(name, child);
    await waitForPort(node.port, 10_000);
  }

  isRunning(name: string): boolean {
    return this.children.get(name)?.exitCode === null;
  }

  /** SIGKILL: no goodbye to the routes, nothing flushed. The store stays for `start`. */
  async kill(name: string): Promise<void> {
    const child = this.children.get(name);
    this.children.delete(name);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** The node that leads `stream` right now, or undefined during an election. */
  async streamLeader(stream: string): Promise<string | undefined> {
    const jsm = await this.jsm();
    const info = await jsm.streams.info(stream).catch(() => undefined);
    return info?.cluster?.leader || undefined;
  }

  /** Waits for a leader of `stream` other than `not`; returns its name. */
  untilStreamLeader(stream: string, not?: string, timeoutMs = 30_000): Promise<string> {
    return eventually(
      async () => {
        const leader = await this.streamLeader(stream);
        return leader !== undefined && leader !== not ? leader : undefined;
      },
      {
        timeoutMs,
        intervalMs: 100,
        what: `a leader of ${stream}${not ? ` other than ${not}` : ''}`,
      },
    );
  }

  /** Waits until `stream` has a leader and every replica is current (a restarted one caught up). */
  async untilStreamCurrent(stream: string, timeoutMs = 30_000): Promise<void> {
    await eventually(
      async () => {
        const jsm = await this.jsm();
        const { cluster } = await jsm.streams.info(stream);
        const replicas = cluster?.replicas ?? [];
        return (
          Boolean(cluster?.leader) &&
          replicas.length === this.nodes.length - 1 &&
          replicas.every((replica) => replica.current)
        );
      },
      { timeoutMs, intervalMs: 200, what: `every replica of ${stream} to be current` },
    );
  }

  /** Waits until a running node reports a JetStream meta leader; returns its name. */
  untilMetaLeader(timeoutMs = 30_000): Promise<string> {
    return eventually(
      async () => {
        for (const node of this.nodes.filter((candidate) => this.isRunning(candidate.name))) {
          const res = await fetch(`http://127.0.0.1:${node.monitorPort}/jsz`).catch(
            () => undefined,
          );
          if (res?.status !== 200) continue;
          const jsz = (await res.json()) as { meta_cluster?: { leader?: string } };
          if (jsz.meta_cluster?.leader) return jsz.meta_cluster.leader;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 100, what: 'a JetStream meta leader' },
    );
  }

  /** Kills every node and deletes the stores. */
  async destroy(): Promise<void> {
    await this.connection?.close();
    await Promise.all(this.nodes.map((node) => this.kill(node.name)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The harness's own connection to every node, to ask who leads what. */
  private async jsm(): Promise<JetStreamManager> {
    if (!this.manager) {
      this.connection = await connect({
        servers: this.nodes.map((node) => node.url),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
      });
      this.manager = await jetstreamManager(this.connection, { timeout: 2000 });
    }
    return this.manager;
  }

  private configPath(node: ClusterNode): string {
    return join(this.dir, `${node.name}.conf`);
  }

  private writeConfig(node: ClusterNode): void {
    const routes = this.nodes
      .filter((other) => other !== node)
      .map((other) => `nats-route://127.0.0.1:${other.clusterPort}`);
    writeFileSync(
      this.configPath(node),
      [
        `server_name: ${node.name}`,
        `listen: 127.0.0.1:${node.port}`,
        `http: 127.0.0.1:${node.monitorPort}`,
        `jetstream { store_dir: "${join(this.dir, node.name)}" }`,
        'cluster {',
        '  name: saga-test',
        `  listen: 127.0.0.1:${node.clusterPort}`,
        `  routes: [${routes.join(', ')}]`,
        '}',
      ].join('\n'),
    );
  }
}
