import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { streamForSubject, SUBSCRIPTIONS } from '@lib/contracts';
import { durableName } from '@lib/messaging';
import { loadConfig } from '@lib/platform';
import { InventoryConfig } from '../../apps/inventory/src/config';
import { OrderConfig } from '../../apps/order/src/config';
import { PaymentConfig } from '../../apps/payment/src/config';
import { TradingConfig } from '../../apps/trading/src/config';
import { BaseConfig } from '../../libs/platform/src/base.config';
import { documentsOf, kustomize } from './kustomize';
import { prometheusRules } from './prometheus-rules';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- manifests are untyped YAML */

const BASE = join(__dirname, 'base');
const PRODUCTION = join(__dirname, 'overlays', 'production');
const CONFIGS: Record<string, new () => BaseConfig> = {
  order: OrderConfig,
  payment: PaymentConfig,
  inventory: InventoryConfig,
  trading: TradingConfig,
};
const APPS = Object.keys(CONFIGS);
/** Each Deployment and the app (image, Secrets, config) it runs. */
const DEPLOYMENTS: Record<string, string> = {
  order: 'order',
  'order-worker': 'order',
  payment: 'payment',
  inventory: 'inventory',
  trading: 'trading',
};

const base = kustomize(BASE);
const production = kustomize(PRODUCTION);
// The production overlay with the optional KEDA component, as its comment says to add it.
const keda = kustomize(PRODUCTION, {
  ...documentsOf(join(PRODUCTION, 'kustomization.yaml'))[0],
  components: ['../../components/keda'],
});
const RENDERED = { base, production, 'production with KEDA': keda };

const find = (objects: any[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const all = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);
const podOf = (deployment: any) => deployment.spec.template.spec;
const containerOf = (deployment: any) => podOf(deployment).containers[0];
const configOf = (objects: any[]) => find(objects, 'ConfigMap', 'saga-platform-config').data;
/** Whether a label selector (matchLabels and `In` expressions) selects these labels. */
function selects(selector: any, labels: Record<string, string>): boolean {
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector.matchExpressions ?? []).every(
      (e: any) => e.operator === 'In' && e.values.includes(labels[e.key]),
    )
  );
}

/** The Kubernetes (and operator CRD) schema of each kind the manifests use. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

describe('Kubernetes manifests', () => {
  it('list only files that exist, in the base and the production overlay', () => {
    const overlay = documentsOf(join(PRODUCTION, 'kustomization.yaml'))[0];
    expect(overlay.resources).toEqual(['../../base']);
    expect(overlay.images.map((i: any) => i.name).sort()).toEqual(
      APPS.map((a) => `saga-platform/${a}`).sort(),
    );
    // The renderer reads every listed file and fails on a missing one or a field it cannot render.
    expect(base.length).toBeGreaterThan(0);
  });

  it.each(Object.entries(RENDERED))(
    'match the Kubernetes and operator schemas, every object (%s)',
    (_, objects) => {
      for (const object of objects) {
        const model = MODELS[`${object.apiVersion}/${object.kind}`];
        if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
        expect(() => new model(object).validate()).not.toThrow();
      }
    },
  );

  it.each(APPS)(
    'run %s on its configured port with startup, liveness and readiness probes',
    (app) => {
      const config = new CONFIGS[app]!();
      const deployment = find(base, 'Deployment', app);
      const container = containerOf(deployment);
      const port = container.ports.find((p: any) => p.name === 'http');
      expect(port.containerPort).toBe(config.PORT);
      expect(container.env).toContainEqual({ name: 'PORT', value: String(config.PORT) });
      expect(container.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      // Booting (NATS, streams, consumers) may take minutes on a cold cluster; liveness waits for it.
      const { periodSeconds, failureThreshold } = container.startupProbe;
      expect(periodSeconds * failureThreshold).toBeGreaterThanOrEqual(120);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      // Its own credentials only: never another app's Secret, never the migration URL.
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'saga-platform-config' } },
        { secretRef: { name: `${app}-secrets` } },
      ]);
      const service = find(base, 'Service', app);
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(service.spec.ports).toEqual([{ name: 'http', port: config.PORT, targetPort: 'http' }]);
    },
  );

  it('run the order app as an HTTP Deployment behind its Service and a saga worker beside it', () => {
    const [api, worker] = ['order', 'order-worker'].map((name) =>
      containerOf(find(base, 'Deployment', name)),
    );
    const role = (container: any) => container.env.find((e: any) => e.name === 'ORDER_ROLE')?.value;
    expect([role(api), role(worker)]).toEqual(['api', 'worker']);
    // The same image, configuration, probes and hardening: only the name and the role differ.
    const rest = (container: any) => ({ ...container, name: undefined, env: undefined });
    expect(rest(worker)).toEqual(rest(api));
    expect(find(base, 'Service', 'order-worker')).toBeUndefined();
  });

  it('set only variables the apps read', () => {
    for (const [app, schema] of Object.entries(CONFIGS)) {
      const known = Object.keys(new schema());
      for (const objects of Object.values(RENDERED)) {
        for (const name of Object.keys(configOf(objects))) expect(known).toContain(name);
        for (const [deployment, runs] of Object.entries(DEPLOYMENTS))
          if (runs === app)
            for (const { name } of containerOf(find(objects, 'Deployment', deployment)).env)
              expect(known).toContain(name);
      }
    }
  });

  it.each(APPS)(
    'give %s a production configuration its own production checks accept: TLS NATS of the Helm chart, its .creds file',
    (app) => {
      const data = configOf(production);
      // The chart's client Service (`helm install nats`), over TLS.
      expect(data.NATS_URL).toBe('tls://nats:4222');
      const values = documentsOf(join(__dirname, 'nats-values.yaml'))[0];
      expect(values.config.nats.tls).toMatchObject({ enabled: true });
      for (const deployment of Object.keys(DEPLOYMENTS).filter((d) => DEPLOYMENTS[d] === app)) {
        const pod = podOf(find(production, 'Deployment', deployment));
        const container = pod.containers[0];
        const volume = (name: string) => pod.volumes.find((v: any) => v.name === name);
        const mountOf = (file: string) =>
          container.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
        // NATS_CREDS is this app's credentials file, from its own Secret; the CA from nats-ca.
        expect(volume(mountOf(data.NATS_CREDS).name).secret.secretName).toBe(`${app}-nats`);
        expect(data.NATS_CREDS.endsWith('/nats.creds')).toBe(true);
        expect(volume(mountOf(data.NATS_TLS_CA).name).configMap.name).toBe('nats-ca');
        const variables = Object.fromEntries(
          container.env.map((e: any) => [e.name, e.value as string]),
        );
        // What the app's Secret holds, in the shape docs/security.md gives it.
        const secrets = {
          DATABASE_URL: `postgres://${app}_app:a-real-password@db:5432/saga`,
          AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
          ...(app === 'payment'
            ? { STRIPE_SECRET_KEY: 'sk_live_real', STRIPE_WEBHOOK_SECRET: 'whsec_real' }
            : {}),
        };
        expect(() =>
          loadConfig(CONFIGS[app]!, { ...data, ...variables, ...secrets }),
        ).not.toThrow();
      }
    },
  );

  it('migrate every app and apply the streams in a setup job named after the release', () => {
    const [job] = all(production, 'Job');
    const pod = job.spec.template.spec;
    const containers = [...pod.initContainers, ...pod.containers];
    const tags = documentsOf(join(PRODUCTION, 'kustomization.yaml'))[0].images.map(
      (i: any) => i.newTag,
    );
    expect(new Set(tags).size).toBe(1);
    // A Job is immutable: each release creates its own, and runs the setup once.
    expect(job.metadata.name).toBe(`saga-platform-setup-${tags[0]}`);
    expect(containers.map((c: any) => c.image).sort()).toEqual(
      APPS.map((a) => `saga-platform/${a}:${tags[0]}`).sort(),
    );
    for (const container of containers) {
      expect(container.args).toEqual(['--setup-only']);
      // Its app's Secrets (its role, which the migrations grant; its NATS user) and the owner's URL.
      const app = container.name;
      expect(container.image).toContain(`saga-platform/${app}:`);
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'saga-platform-config' } },
        { secretRef: { name: `${app}-secrets` } },
        { secretRef: { name: 'saga-platform-migration' } },
      ]);
      const creds = container.volumeMounts.find((m: any) => m.mountPath === '/etc/saga/nats');
      expect(pod.volumes.find((v: any) => v.name === creds.name).secret.secretName).toBe(
        `${app}-nats`,
      );
    }
  });

  it('give the migration URL to the setup job only, and run everything with NODE_ENV=production', () => {
    expect(configOf(base).NODE_ENV).toBe('production');
    const pods = all(base, 'Deployment').map(podOf);
    expect(pods).toHaveLength(Object.keys(DEPLOYMENTS).length);
    for (const pod of pods) {
      expect(JSON.stringify(pod)).not.toContain('saga-platform-migration');
      expect(JSON.stringify(pod)).not.toContain('DATABASE_MIGRATION_URL');
    }
    expect(JSON.stringify(configOf(base))).not.toContain('DATABASE_URL');
  });

  it('run every pod as non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and a writable /tmp', () => {
    const pods = [...all(production, 'Deployment'), ...all(production, 'Job')].map(podOf);
    expect(pods).toHaveLength(Object.keys(DEPLOYMENTS).length + 1);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: expect.any(Number),
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      const tmp = pod.volumes.find((v: any) => v.emptyDir);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.volumeMounts).toContainEqual({ name: tmp.name, mountPath: '/tmp' });
      }
    }
  });

  it('pause before SIGTERM so endpoints drain, within the grace period', () => {
    for (const deployment of all(production, 'Deployment')) {
      const pod = podOf(deployment);
      const { command } = pod.containers[0].lifecycle.preStop.exec;
      expect(command[0]).toBe('sleep');
      expect(Number(command[1])).toBeGreaterThan(0);
      // The app's own graceful stop (in-flight messages, the relay) needs what is left.
      expect(pod.terminationGracePeriodSeconds - Number(command[1])).toBeGreaterThanOrEqual(30);
    }
  });

  it.each(Object.entries(RENDERED))(
    'leave the replica count of every Deployment to its autoscaler, and keep one pod of each up in a drain (%s)',
    (_, objects) => {
      const scaled = [
        ...all(objects, 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name),
        ...all(objects, 'ScaledObject').map((s) => s.spec.scaleTargetRef.name),
      ];
      const deployments = all(objects, 'Deployment');
      expect(scaled.sort()).toEqual(deployments.map((d) => d.metadata.name).sort());
      for (const deployment of deployments) {
        expect(deployment.spec.replicas).toBeUndefined();
        const labels = deployment.spec.template.metadata.labels;
        const budgets = all(objects, 'PodDisruptionBudget').filter((p) =>
          selects(p.spec.selector, labels),
        );
        expect(budgets).toHaveLength(1);
        expect(budgets[0].spec.maxUnavailable).toBe(1);
        const autoscaler = find(objects, 'HorizontalPodAutoscaler', deployment.metadata.name);
        const scaledObject = find(objects, 'ScaledObject', deployment.metadata.name);
        expect(autoscaler?.spec.minReplicas ?? scaledObject?.spec.minReplicaCount).toBeGreaterThan(
          1,
        );
      }
    },
  );

  it('route the order API, payment status and the Stripe webhook through the Ingress, nothing else', () => {
    const [ingress] = all(production, 'Ingress');
    const routes = ingress.spec.rules.flatMap((rule: any) =>
      rule.http.paths.map((p: any) => [
        p.path,
        p.pathType,
        p.backend.service.name,
        p.backend.service.port.name,
      ]),
    );
    expect(routes).toEqual([
      ['/orders', 'Prefix', 'order', 'http'],
      ['/payments', 'Prefix', 'payment', 'http'],
      ['/webhooks/stripe', 'Exact', 'payment', 'http'],
    ]);
  });

  describe('network policies', () => {
    const policies = all(production, 'NetworkPolicy');
    const INGRESS_CONTROLLER = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
    };
    const PROMETHEUS = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    };
    const podLabels = (kind: string) =>
      all(production, kind).map((o) => [o.metadata.name, o.spec.template.metadata.labels]);
    const applying = (labels: Record<string, string>, type: string) =>
      policies.filter(
        (p) => p.spec.policyTypes.includes(type) && selects(p.spec.podSelector, labels),
      );

    it.each(podLabels('Deployment').concat(podLabels('Job')))(
      'deny %s everything not allowed below, in and out',
      (_, labels) => {
        const deny = applying(labels, 'Ingress').filter((p) => !p.spec.ingress && !p.spec.egress);
        expect(deny.map((p) => p.spec.policyTypes)).toEqual([['Ingress', 'Egress']]);
      },
    );

    it.each(podLabels('Deployment'))(
      'let only the Ingress controller reach the public port of %s (when routed) and only Prometheus its metrics',
      (name, labels) => {
        const rules = applying(labels, 'Ingress').flatMap((p) => p.spec.ingress ?? []);
        const allowed = rules.flatMap((rule: any) => {
          expect(rule.from).toBeDefined();
          return rule.ports.map((port: any) => [port.port, rule.from]);
        });
        const routed = ['order', 'payment'].includes(name);
        expect(allowed).toEqual(
          expect.arrayContaining([
            ['metrics', [PROMETHEUS]],
            ...(routed ? [['http', [INGRESS_CONTROLLER]]] : []),
          ]),
        );
        expect(allowed).toHaveLength(routed ? 2 : 1);
        // The named ports exist on the container, and metrics is METRICS_PORT.
        const ports = containerOf(find(production, 'Deployment', name)).ports;
        expect(ports.find((p: any) => p.name === 'metrics').containerPort).toBe(
          Number(configOf(production).METRICS_PORT),
        );
      },
    );

    it.each(podLabels('Deployment').concat(podLabels('Job')))(
      'let %s reach only DNS, NATS and Postgres (and payment Stripe over HTTPS)',
      (name, labels) => {
        const rules = applying(labels, 'Egress').flatMap((p) => p.spec.egress ?? []);
        const ports = rules.flatMap((rule: any) => rule.ports.map((p: any) => p.port)).sort();
        expect(ports).toEqual(
          name === 'payment' ? [4222, 443, 53, 53, 5432] : [4222, 53, 53, 5432],
        );
        const nats = rules.find((rule: any) => rule.ports[0].port === 4222);
        // The NATS server pods of the official Helm chart.
        expect(nats.to).toEqual([
          {
            podSelector: {
              matchLabels: {
                'app.kubernetes.io/name': 'nats',
                'app.kubernetes.io/component': 'nats',
              },
            },
          },
        ]);
        const stripe = rules.find((rule: any) => rule.ports[0].port === 443);
        if (stripe) expect(stripe.to[0].ipBlock.except).toContain('10.0.0.0/8');
      },
    );
  });

  it('scrape every app, the saga worker included, with a PodMonitor on its metrics port', () => {
    const monitors = all(production, 'PodMonitor');
    for (const deployment of all(production, 'Deployment')) {
      const labels = deployment.spec.template.metadata.labels;
      const matching = monitors.filter((m) => selects(m.spec.selector, labels));
      expect(matching).toHaveLength(1);
      expect(matching[0].spec.podMetricsEndpoints).toEqual([{ port: 'metrics', path: '/metrics' }]);
    }
    expect(monitors).toHaveLength(Object.keys(DEPLOYMENTS).length);
  });

  it('carry every Prometheus rule file as a PrometheusRule (npm run k8s:rules)', () => {
    const expected = prometheusRules().map((rule: any) => ({
      ...rule,
      metadata: { ...rule.metadata, labels: { 'app.kubernetes.io/part-of': 'saga-platform' } },
    }));
    expect(all(base, 'PrometheusRule')).toEqual(expected);
  });

  it('scale the order worker and inventory on the lag of each of their durable consumers with KEDA, CPU HPAs without it', () => {
    for (const [deployment, app] of [
      ['order-worker', 'order'],
      ['inventory', 'inventory'],
    ] as const) {
      expect(find(production, 'HorizontalPodAutoscaler', deployment)).toBeDefined();
      expect(find(keda, 'HorizontalPodAutoscaler', deployment)).toBeUndefined();
      const scaled = find(keda, 'ScaledObject', deployment);
      const lag = scaled.spec.triggers.filter((t: any) => t.type === 'nats-jetstream');
      expect(lag.map((t: any) => [t.metadata.stream, t.metadata.consumer])).toEqual(
        SUBSCRIPTIONS[app]!.map((subject) => [
          streamForSubject(subject).name,
          durableName(app, subject),
        ]),
      );
      for (const trigger of lag) {
        // The account id comes from a Secret; the monitoring port of the chart's servers.
        expect(trigger.authenticationRef.name).toBe('nats-jetstream');
        expect(trigger.metadata.natsServerMonitoringEndpoint).toMatch(/^nats-headless\./);
      }
      expect(scaled.spec.triggers.map((t: any) => t.type)).toContain('cpu');
    }
    expect(find(keda, 'TriggerAuthentication', 'nats-jetstream')).toBeDefined();
  });

  it('run R3 streams in production on a 3-node JetStream cluster', () => {
    expect(configOf(production).NATS_STREAM_REPLICAS).toBe('3');
    const values = documentsOf(join(__dirname, 'nats-values.yaml'))[0];
    expect(values.config).toMatchObject({
      cluster: { enabled: true, replicas: 3 },
      jetstream: { enabled: true },
    });
  });
});

describe('the kustomize renderer of the spec', () => {
  it('fails on a file the kustomization lists but that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'saga-kustomize-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
      expect(() => kustomize(dir)).toThrow(/missing.yaml does not exist/);
      writeFileSync(join(dir, 'kustomization.yaml'), 'replicas: [{ name: order, count: 2 }]\n');
      expect(() => kustomize(dir)).toThrow(/kustomization field replicas is not rendered/);
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(existsSync(dir)).toBe(false);
  });
});
