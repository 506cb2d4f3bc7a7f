import { loadAll } from 'js-yaml';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InventoryConfig } from '../../apps/inventory/src/config';
import { OrderConfig } from '../../apps/order/src/config';
import { PaymentConfig } from '../../apps/payment/src/config';
import { TradingConfig } from '../../apps/trading/src/config';
import { BaseConfig } from '../../libs/platform/src/base.config';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- manifests are untyped YAML */
const BASE = join(__dirname, 'base');
const APPS: Record<string, BaseConfig> = {
  order: new OrderConfig(),
  payment: new PaymentConfig(),
  inventory: new InventoryConfig(),
  trading: new TradingConfig(),
};

const documents = (file: string): any[] => loadAll(readFileSync(file, 'utf8')) as any[];
const kustomization = (dir: string): any => documents(join(dir, 'kustomization.yaml'))[0];
const base: any[] = (kustomization(BASE).resources as string[]).flatMap((file) =>
  documents(join(BASE, file)),
);
const find = (kind: string, name: string) =>
  base.find((d) => d.kind === kind && d.metadata.name === name);
const configMap = find('ConfigMap', 'saga-platform-config');

describe('Kubernetes manifests', () => {
  it('list only files that exist, in the base and the production overlay', () => {
    for (const file of kustomization(BASE).resources as string[])
      expect(existsSync(join(BASE, file))).toBe(true);
    const production = kustomization(join(__dirname, 'overlays', 'production'));
    expect(production.resources).toEqual(['../../base']);
    expect(production.images.map((i: any) => i.name).sort()).toEqual(
      Object.keys(APPS)
        .map((a) => `saga-platform/${a}`)
        .sort(),
    );
  });

  it.each(Object.entries(APPS))(
    'run %s on its configured port with both health probes',
    (app, config) => {
      const deployment = find('Deployment', app);
      const [container] = deployment.spec.template.spec.containers;
      const port = container.ports.find((p: any) => p.name === 'http');
      expect(port.containerPort).toBe(config.PORT);
      expect(container.env).toContainEqual({ name: 'PORT', value: String(config.PORT) });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'saga-platform-config' } },
        { secretRef: { name: 'saga-platform-secrets' } },
      ]);
      const service = find('Service', app);
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(service.spec.ports).toEqual([{ name: 'http', port: config.PORT, targetPort: 'http' }]);
      expect(find('HorizontalPodAutoscaler', app).spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: app,
      });
    },
  );

  it('run the order app as an HTTP Deployment behind its Service and a saga worker beside it', () => {
    const [api, worker] = ['order', 'order-worker'].map(
      (name) => find('Deployment', name).spec.template.spec.containers[0],
    );
    const role = (container: any) => container.env.find((e: any) => e.name === 'ORDER_ROLE')?.value;
    expect([role(api), role(worker)]).toEqual(['api', 'worker']);
    // The same image, configuration and probes: only the name and the role differ.
    const rest = (container: any) => ({ ...container, name: undefined, env: undefined });
    expect(rest(worker)).toEqual(rest(api));
    expect(find('Service', 'order-worker')).toBeUndefined();
    expect(find('HorizontalPodAutoscaler', 'order-worker').spec.scaleTargetRef.name).toBe(
      'order-worker',
    );
  });

  it('set only variables the apps read', () => {
    for (const [app, config] of Object.entries(APPS)) {
      const known = Object.keys(config);
      for (const name of Object.keys(configMap.data)) expect(known).toContain(name);
      const deployments = app === 'order' ? ['order', 'order-worker'] : [app];
      const env = deployments.flatMap((name) =>
        find('Deployment', name).spec.template.spec.containers[0].env.map((e: any) => e.name),
      );
      for (const name of env) expect(known).toContain(name);
    }
  });

  it('migrate every app and apply the streams in the setup job', () => {
    const pod = find('Job', 'saga-platform-setup').spec.template.spec;
    const containers = [...pod.initContainers, ...pod.containers];
    expect(containers.map((c: any) => c.image).sort()).toEqual(
      Object.keys(APPS)
        .map((a) => `saga-platform/${a}`)
        .sort(),
    );
    for (const container of containers) expect(container.args).toEqual(['--setup-only']);
  });

  it('run R3 streams in production on a 3-node JetStream cluster', () => {
    const production = kustomization(join(__dirname, 'overlays', 'production'));
    expect(JSON.stringify(production.patches)).toContain("/data/NATS_STREAM_REPLICAS, value: '3'");
    const values: any = documents(join(__dirname, 'nats-values.yaml'))[0];
    expect(values.config).toMatchObject({
      cluster: { enabled: true, replicas: 3 },
      jetstream: { enabled: true },
    });
  });
});
