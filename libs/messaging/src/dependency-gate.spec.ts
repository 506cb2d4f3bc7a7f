import { Logger } from '@nestjs/common';
import { DependencyGate, DependencyGates } from './dependency-gate';

// The gates log every change: not what these tests look at.
beforeAll(() => {
  Logger.overrideLogger(false);
});

class Refused extends Error {}

/** A dependency the test turns on and off, and the gate in front of it. */
function dependency(name = 'db', recognised = true) {
  let up = true;
  let probes = 0;
  const gate = new DependencyGate(name, {
    probe: () => {
      probes++;
      return up ? Promise.resolve() : Promise.reject(new Refused('down'));
    },
    probeEveryMs: 5,
    isOutage: (error) => recognised && error instanceof Refused,
  });
  return {
    gate,
    setUp: (value: boolean) => (up = value),
    probes: () => probes,
  };
}

/** Resolves once `check` holds, letting the gate's timers run. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('DependencyGate', () => {
  it('stays closed while its probe fails, and opens once it answers', async () => {
    const db = dependency();
    db.setUp(false);
    db.gate.close('refused');
    let reopened = false;
    const waiting = db.gate.whenOpen().then(() => (reopened = true));
    await until(() => db.probes() >= 3);
    expect(db.gate.isOpen).toBe(false);
    expect(reopened).toBe(false);

    db.setUp(true);
    await waiting;
    expect(db.gate.isOpen).toBe(true);
    db.gate.stop();
  });

  it('tells its watchers when it closes and opens, once each', async () => {
    const db = dependency();
    const changes: boolean[] = [];
    db.gate.watch(() => changes.push(db.gate.isOpen));
    db.setUp(false);
    db.gate.close('refused');
    db.gate.close('refused again');
    db.setUp(true);
    await db.gate.whenOpen();
    db.gate.open();
    expect(changes).toEqual([false, true]);
    db.gate.stop();
  });
});

describe('DependencyGates', () => {
  it('closes the gate whose dependency an error shows down, and only on such an error', async () => {
    const gates = new DependencyGates();
    const db = dependency('db');
    // Closed only by its owner (as a circuit breaker closes Stripe's).
    const other = dependency('other', false);
    gates.add(db.gate);
    gates.add(other.gate);

    expect(gates.failedWith(new Error('a bug in the handler'))).toBe(false);
    expect(gates.open).toBe(true);

    db.setUp(false);
    expect(gates.failedWith(new Refused('connection refused'))).toBe(true);
    expect(gates.closed).toEqual(['db']);
    // Any failure while a dependency is down is the outage's.
    expect(gates.failedWith(new Error('a bug in the handler'))).toBe(true);

    db.setUp(true);
    await gates.opened();
    expect(gates.open).toBe(true);
    gates.onApplicationShutdown();
  });
});
