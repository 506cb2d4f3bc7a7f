/** The faults the suite injects, one phase each, in this order. */
export const PHASES = ['kill', 'nats', 'postgres', 'stripe', 'fuzz'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface ChaosConfig {
  profile: 'full' | 'quick';
  /** Storefront orders placed per second while a phase runs. */
  ordersPerSecond: number;
  /** Requests of the fuzz phase. */
  fuzzRequests: number;
  phases: PhaseName[];
  /** Seed of every random choice (customers, fuzz), so a failing run can be repeated. */
  seed: number;
  /** Load before each fault, and after it healed, before the invariants are checked. */
  leadMs: number;
  tailMs: number;
  /** How long each dependency stays down; an app is restarted as soon as it is dead. */
  natsDownMs: number;
  postgresDownMs: number;
  stripeDownMs: number;
  /**
   * Customers who never pay, or pay only after the payment deadline, keep an order open for that
   * whole deadline: they are placed only during the first this-many ms of a phase, so the phase
   * settles soon after it ends.
   */
  slowCustomersForMs: number;
  /** The saga deadlines the order app runs with. */
  deadlines: { stockMs: number; paymentMs: number; compensationMs: number };
  /** The whole run must end within this, or it fails (CI's budget for it). */
  budgetMs: number;
}

/**
 * `CHAOS_PROFILE=quick` is for developing the suite (fewer orders, 1,000 fuzzed requests, shorter
 * outages); `full` (the default, what CI runs) is the run. `CHAOS_ORDERS_PER_SECOND`,
 * `CHAOS_FUZZ_REQUESTS`, `CHAOS_PHASES` (comma-separated, of PHASES) and `CHAOS_SEED` override it.
 */
export function chaosConfig(env: NodeJS.ProcessEnv = process.env): ChaosConfig {
  const profile = env.CHAOS_PROFILE ?? 'full';
  if (profile !== 'full' && profile !== 'quick')
    throw new Error(`CHAOS_PROFILE must be full or quick, not ${profile}`);
  const quick = profile === 'quick';
  return {
    profile,
    ordersPerSecond: positive(env, 'CHAOS_ORDERS_PER_SECOND', quick ? 3 : 10),
    fuzzRequests: positive(env, 'CHAOS_FUZZ_REQUESTS', quick ? 1000 : 10_000),
    phases: phases(env.CHAOS_PHASES),
    seed: positive(env, 'CHAOS_SEED', Date.now() % 1_000_000),
    leadMs: quick ? 2000 : 4000,
    tailMs: quick ? 3000 : 6000,
    natsDownMs: quick ? 1000 : 3000,
    postgresDownMs: quick ? 2000 : 5000,
    stripeDownMs: quick ? 5000 : 10_000,
    slowCustomersForMs: quick ? 2000 : 5000,
    // Longer than any outage here, with room for the customers who pay a few seconds late.
    deadlines: { stockMs: 20_000, paymentMs: 25_000, compensationMs: 30_000 },
    budgetMs: 10 * 60_000,
  };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, not ${raw}`);
  return value;
}

function phases(raw: string | undefined): PhaseName[] {
  if (!raw) return [...PHASES];
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !(PHASES as readonly string[]).includes(name));
  if (unknown)
    throw new Error(`CHAOS_PHASES: unknown phase ${unknown} (one of ${PHASES.join(', ')})`);
  return names as PhaseName[];
}
