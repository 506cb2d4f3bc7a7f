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

/** The base with an overlay's JSON patches applied (the `add` and `replace` ops they use). */
function render(overlay: any): any[] {
  const documents: any[] = structuredClone(base);
  for (const { target, patch } of overlay.patches) {
    const targets = documents.filter(
      (d) =>
        d.kind === target.kind && (target.name === undefined || d.metadata.name === target.name),
    );
    for (const { op, path, value } of loadAll(patch)[0] as any[]) {
      expect(['add', 'replace']).toContain(op);
      for (const document of targets) {
        const keys = (path as string).slice(1).split('/');
        const last = keys.pop()!;
        const parent = keys.reduce((node, key) => node[key], document);
        if (last === '-') parent.push(structuredClone(value));
        else parent[last] = structuredClone(value);
      }
    }
  }
  return documents;
}
const productionManifests = render(kustomization(join(__dirname, 'overlays', 'production')));

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
      // Its own credentials only: never another app's Secret, never the migration URL.
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'saga-platform-config' } },
        { secretRef: { name: `${app}-secrets` } },
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
    const productionConfig = productionManifests.find((d) => d.kind === 'ConfigMap');
    for (const [app, config] of Object.entries(APPS)) {
      const known = Object.keys(config);
      for (const name of Object.keys({ ...configMap.data, ...productionConfig.data }))
        expect(known).toContain(name);
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
    for (const container of containers) {
      expect(container.args).toEqual(['--setup-only']);
      // Its app's Secret (its role, which the migrations grant) and the schema owner's URL.
      const app = (container.image as string).replace('saga-platform/', '');
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'saga-platform-config' } },
        { secretRef: { name: `${app}-secrets` } },
        { secretRef: { name: 'saga-platform-migration' } },
      ]);
    }
  });

  it('give the migration URL to the setup job only, and run everything with NODE_ENV=production', () => {
    expect(configMap.data.NODE_ENV).toBe('production');
    const podsOutsideTheJob = base
      .filter((d) => d.kind === 'Deployment')
      .map((d) => d.spec.template.spec);
    expect(podsOutsideTheJob.length).toBeGreaterThanOrEqual(Object.keys(APPS).length);
    for (const pod of podsOutsideTheJob) {
      expect(JSON.stringify(pod)).not.toContain('saga-platform-migration');
      expect(JSON.stringify(pod)).not.toContain('DATABASE_MIGRATION_URL');
    }
    expect(JSON.stringify(configMap)).not.toContain('DATABASE_URL');
  });

  it('serve /metrics in production on METRICS_PORT, declared by every pod and exposed by no Service', () => {
    const metricsPort = Number(
      productionManifests.find((d) => d.kind === 'ConfigMap').data.METRICS_PORT as string,
    );
    expect(Object.values(APPS).map((config) => config.PORT)).not.toContain(metricsPort);
    const deployments = productionManifests.filter((d) => d.kind === 'Deployment');
    expect(deployments.length).toBeGreaterThanOrEqual(Object.keys(APPS).length);
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      expect(container.ports).toContainEqual({ name: 'metrics', containerPort: metricsPort });
      expect(deployment.spec.template.metadata.annotations).toMatchObject({
        'prometheus.io/port': String(metricsPort),
      });
    }
    const services = productionManifests.filter((d) => d.kind === 'Service');
    expect(services).toHaveLength(Object.keys(APPS).length);
    for (const service of services) {
      for (const port of service.spec.ports) {
        expect(port.targetPort).toBe('http');
        expect(port.port).not.toBe(metricsPort);
      }
    }
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
