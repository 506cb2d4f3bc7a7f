import 'reflect-metadata';
import { loadAverage } from '../bench/stats';
import { sleep } from '../harness/wait';
import { chaosConfig, ChaosConfig, PhaseName } from './chaos.config';
import { APPS, ChaosPlatform } from './chaos-platform';
import { printFigures, PhaseResult, Recovery } from './figures';
import { fuzz } from './fuzz';
import { HttpCalls } from './http-calls';
import { Invariants, Outage, Violation } from './invariants';
import { Random } from './random';
import { CATALOGUE, Storefront } from './storefront';

/*
 * npm run test:chaos: the platform under paid orders while its parts are broken one phase at a
 * time (docs/chaos.md). Every phase ends with the invariants; the run fails if any is broken.
 */

interface Run {
  config: ChaosConfig;
  platform: ChaosPlatform;
  http: HttpCalls;
  random: Random;
  outages: Outage[];
  recoveries: Recovery[];
}

/** A killed app stays dead this long before its restart, so requests meet a closed port. */
const DEAD_APP_MS = 1000;
/** Load between two kills, so each restart happens under orders in flight. */
const BETWEEN_KILLS_MS = 3000;

/** Each phase injects its fault under load and repairs it; `heal` records the outage and recovery. */
const FAULTS: Record<PhaseName, (run: Run) => Promise<void>> = {
  kill: async (run) => {
    for (const app of APPS) {
      const from = Date.now();
      await run.platform.killApp(app);
      await sleep(DEAD_APP_MS);
      const healedAt = Date.now();
      await run.platform.startApp(app);
      record(
        run,
        { what: `kill -9 ${app}`, app, dependency: false, from, to: Date.now() },
        healedAt,
      );
      await sleep(BETWEEN_KILLS_MS);
    }
  },
  nats: async (run) => {
    const from = Date.now();
    await run.platform.nats.stop();
    await sleep(run.config.natsDownMs);
    const healedAt = Date.now();
    await run.platform.nats.start();
    await run.platform.untilReady();
    record(run, { what: 'kill -9 nats-server', dependency: true, from, to: Date.now() }, healedAt);
  },
  postgres: async (run) => {
    const from = Date.now();
    await run.platform.postgres.stop('immediate');
    await sleep(run.config.postgresDownMs);
    const healedAt = Date.now();
    await run.platform.postgres.start();
    await run.platform.untilReady();
    record(
      run,
      { what: 'Postgres stop -m immediate', dependency: true, from, to: Date.now() },
      healedAt,
    );
  },
  stripe: async (run) => {
    const from = Date.now();
    await run.platform.stripe.failNext('api_error');
    await sleep(run.config.stripeDownMs);
    const healedAt = Date.now();
    await run.platform.stripe.clearFaults();
    // Stripe is not on the apps' readiness: nothing is excused while it is down.
    run.outages.push({ what: 'Stripe failing', dependency: false, from, to: healedAt });
    run.recoveries.push({
      fault: 'Stripe answering 500',
      downMs: healedAt - from,
      healedAt,
    });
  },
  fuzz: async (run) => {
    await fuzz(run.platform, run.http, run.random, run.config.fuzzRequests);
  },
};

function record(run: Run, outage: Outage, healedAt: number): void {
  run.outages.push(outage);
  run.recoveries.push({
    fault: outage.what,
    downMs: healedAt - outage.from,
    readyMs: outage.to - healedAt,
    healedAt,
  });
}

async function main(): Promise<void> {
  const config = chaosConfig();
  const runStartedAt = Date.now();
  // A hung phase must not hold CI for its whole 90 minutes.
  setTimeout(() => {
    process.stderr.write(`test:chaos: over its budget of ${config.budgetMs / 60_000} minutes\n`);
    process.exit(1);
  }, config.budgetMs).unref();
  process.stdout.write(
    `test:chaos: ${config.profile} profile, ${config.ordersPerSecond} orders/s, phases ${config.phases.join(', ')}, ` +
      `${config.fuzzRequests} fuzzed requests, seed ${config.seed} (CHAOS_SEED); load average ${loadAverage()}\n`,
  );
  const platform = await ChaosPlatform.start(config);
  process.stdout.write(`platform up in ${Date.now() - runStartedAt} ms\n`);
  const http = new HttpCalls();
  const random = new Random(config.seed);
  const storefront = new Storefront(platform, http, random, config);
  let failed = false;
  try {
    for (const { sku, stock, priceMinor } of CATALOGUE)
      await platform.putProduct(sku, stock, priceMinor);
    const run: Run = { config, platform, http, random, outages: [], recoveries: [] };
    const { stockMs, paymentMs, compensationMs } = config.deadlines;
    const deadlineMs = stockMs + paymentMs + compensationMs;
    const invariants = new Invariants(platform, deadlineMs);
    const phases: PhaseResult[] = [];
    let callsSeen = 0;
    let lettersSeen = 0;
    let webhooksSeen = 0;

    for (const phase of config.phases) {
      const startedAt = Date.now();
      const ordersBefore = storefront.orders.length;
      storefront.open(phase);
      await sleep(config.leadMs);
      await FAULTS[phase](run);
      await sleep(config.tailMs);
      await storefront.close();
      const loadStoppedAt = Date.now();
      const settled = await invariants.settle(storefront.orders, run.outages, deadlineMs + 30_000);
      const settledMs = Date.now() - loadStoppedAt;
      const deliveries = await platform.stripe.deliveries();
      for (const delivery of deliveries.slice(webhooksSeen))
        http.recordWebhook(Date.parse(delivery.at), delivery.statusCode, delivery.error);
      webhooksSeen = deliveries.length;
      const letters = await invariants.deadLetters();
      const happened = await invariants.happened(
        letters.slice(lettersSeen),
        http.records.slice(callsSeen),
        run.outages,
      );
      callsSeen = http.records.length;
      lettersSeen = letters.length;
      const violations = [...settled.violations, ...happened];
      phases.push({
        phase,
        ms: Date.now() - startedAt,
        orders: storefront.orders.length - ordersBefore,
        settledMs,
        violations,
      });
      reportPhase(phase, phases[phases.length - 1]!, violations);
      failed ||= violations.length > 0;
    }

    const snapshot = await invariants.snapshot();
    printFigures({
      orders: storefront.orders,
      unplaced: storefront.unplaced,
      snapshot,
      deadLetters: await invariants.deadLetters(),
      recoveries: run.recoveries,
      calls: http.records,
      webhooks: await platform.stripe.deliveries(),
      phases,
    });
    process.stdout.write(
      `\ntest:chaos: ${failed ? 'FAILED: invariants broken (above)' : 'every invariant held'} after ${Math.round(
        (Date.now() - runStartedAt) / 1000,
      )} s; load average ${loadAverage()}\n`,
    );
  } finally {
    storefront.halt();
    http.close();
    await platform.stop();
  }
  process.exit(failed ? 1 : 0);
}

function reportPhase(phase: string, result: PhaseResult, violations: Violation[]): void {
  process.stdout.write(
    `phase ${phase}: ${result.orders} orders in ${Math.round(result.ms / 1000)} s, settled ${Math.round(
      result.settledMs / 1000,
    )} s after the load stopped: ${violations.length === 0 ? 'every invariant held' : `${violations.length} violations`}\n`,
  );
  for (const violation of violations.slice(0, 40))
    process.stdout.write(`  ✗ ${violation.invariant}: ${violation.detail}\n`);
  if (violations.length > 40) process.stdout.write(`  … and ${violations.length - 40} more\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `test:chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
