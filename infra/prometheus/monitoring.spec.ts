import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { collectDefaultMetrics, Histogram, register, Summary } from 'prom-client';
// Loading the apps' modules registers every metric they define, as booting them does.
import '../../apps/inventory/src/inventory.module';
import '../../apps/order/src/order.module';
import '../../apps/payment/src/payment.module';
import '../../apps/trading/src/trading.module';
import '@lib/messaging';
import '@lib/platform';

const ROOT = join(__dirname, '..', '..');
const RULES_DIR = join(ROOT, 'infra', 'prometheus', 'rules');
const DASHBOARDS_DIR = join(ROOT, 'infra', 'grafana', 'dashboards');
const OBSERVABILITY_DOC = join(ROOT, 'docs', 'observability.md');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; runbook?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: { id: number; title: string; targets: { expr: string }[] }[];
}

/** Series Prometheus makes itself, not the apps. */
const PROMETHEUS_OWN = ['up'];

/** PromQL words that look like metric names. */
const PROMQL_WORDS = new Set([
  ...['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'],
  ...['and', 'or', 'unless', 'inf', 'nan'],
]);

/** The metric names a PromQL expression reads (not its functions, labels, strings or ranges). */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()/g)].map(
    (match) => match[0],
  );
  return [...new Set(names.filter((name) => !PROMQL_WORDS.has(name.toLowerCase())))];
}

/** Every series name the apps' /metrics pages can show (histograms as their three series). */
function exportedMetrics(): Set<string> {
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
  const names = register.getMetricsAsArray().flatMap((metric) => {
    const { name } = metric as unknown as { name: string };
    if (metric instanceof Histogram) return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    if (metric instanceof Summary) return [name, `${name}_sum`, `${name}_count`];
    return [name];
  });
  return new Set([...names, ...PROMETHEUS_OWN]);
}

/** `where: metric` for each expression's metric that is not in `exported`. */
function unknownMetrics(
  expressions: { where: string; expr: string }[],
  exported: Set<string>,
): string[] {
  return expressions.flatMap(({ where, expr }) =>
    metricNamesIn(expr)
      .filter((name) => !exported.has(name))
      .map((name) => `${where}: ${name}`),
  );
}

function rules(): Rule[] {
  return readdirSync(RULES_DIR)
    .filter((file) => file.endsWith('.yml'))
    .flatMap((file) => {
      const { groups } = load(readFileSync(join(RULES_DIR, file), 'utf8')) as {
        groups: { rules: Rule[] }[];
      };
      return groups.flatMap((group) => group.rules);
    });
}

function dashboards(): Record<string, Dashboard> {
  return Object.fromEntries(
    readdirSync(DASHBOARDS_DIR)
      .filter((file) => file.endsWith('.json'))
      .map((file) => [
        file,
        JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard,
      ]),
  );
}

const ruleExpressions = () => rules().map((rule) => ({ where: rule.alert, expr: rule.expr }));
const panelExpressions = () =>
  Object.entries(dashboards()).flatMap(([file, dashboard]) =>
    dashboard.panels.flatMap((panel) =>
      panel.targets.map(({ expr }) => ({ where: `${file} "${panel.title}"`, expr })),
    ),
  );

describe('metrics, alert rules and dashboards', () => {
  it('reads metric names out of PromQL, and nothing else', () => {
    expect(
      metricNamesIn(
        'sum by (service, le) (rate(http_request_duration_seconds_bucket{route!~"/health.*"}[5m])) / ' +
          '(sum(rate(saga_failed_total[15m])) or vector(0)) > 1e-9 and on (service) up == 0',
      ),
    ).toEqual(['http_request_duration_seconds_bucket', 'saga_failed_total', 'up']);
  });

  it('name only metrics the apps export: removing one fails the check', () => {
    const exported = exportedMetrics();
    expect(unknownMetrics([...ruleExpressions(), ...panelExpressions()], exported)).toEqual([]);
    exported.delete('dlq_messages_total');
    exported.delete('http_requests_total');
    expect(unknownMetrics(ruleExpressions(), exported)).toEqual([
      'DeadLetters: dlq_messages_total',
      'HttpErrorRatioHigh: http_requests_total',
    ]);
    expect(unknownMetrics(panelExpressions(), exported)).toContain(
      'jetstream-consumers.json "Dead letters (5 min)": dlq_messages_total',
    );
  });

  it('are all listed in docs/observability.md', () => {
    const doc = readFileSync(OBSERVABILITY_DOC, 'utf8');
    const defaults = /^(process_|nodejs_)/;
    const names = register
      .getMetricsAsArray()
      .map((metric) => (metric as unknown as { name: string }).name)
      .filter((name) => !defaults.test(name));
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });

  it("cover the runbook's alerts, each with a severity, a summary and a section that says what to do", () => {
    const all = rules();
    expect(all.map((rule) => rule.alert).sort()).toEqual([
      'AppDown',
      'CompensationFailed',
      'CompensationsPending',
      'ConsumerBacklog',
      'ConsumersRetrying',
      'DeadLetters',
      'DependencyDown',
      'ForgedSagaReplies',
      'HttpErrorRatioHigh',
      'HttpLatencyHigh',
      'OutboxNotDraining',
      'OutboxPublishLagHigh',
      'SagaFailureRatioHigh',
      'SagasOverdue',
      'StripeCircuitOpen',
      'StripeWebhooksRejected',
    ]);
    const doc = readFileSync(OBSERVABILITY_DOC, 'utf8');
    for (const rule of all) {
      expect(rule.labels?.severity).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.runbook).toBe(`docs/observability.md#${rule.alert.toLowerCase()}`);
      expect(doc).toContain(`\n### ${rule.alert}\n`);
    }
  });

  it('are loaded by prometheus.yml and mounted where it looks for them', () => {
    const config = load(readFileSync(join(ROOT, 'infra', 'prometheus', 'prometheus.yml'), 'utf8'));
    expect(config).toMatchObject({ rule_files: ['rules/*.yml'] });
    expect(readFileSync(join(ROOT, 'compose.dev.yaml'), 'utf8')).toContain(
      './infra/prometheus/rules:/etc/prometheus/rules:ro',
    );
  });

  it('give payments, inventory, trading, the HTTP edge and the JetStream consumers a dashboard each', () => {
    const all = dashboards();
    expect(Object.keys(all).sort()).toEqual([
      'http-edge.json',
      'inventory.json',
      'jetstream-consumers.json',
      'order-sagas.json',
      'payments.json',
      'trading.json',
    ]);
    const uids = Object.values(all).map((dashboard) => dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const dashboard of Object.values(all)) {
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of dashboard.panels) expect(panel.targets.length).toBeGreaterThan(0);
    }
  });
});
