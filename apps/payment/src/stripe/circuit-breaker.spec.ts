import { CircuitBreaker, CircuitOpenError, CircuitState } from './circuit-breaker';

class Outage extends Error {}
const isOutage = (error: unknown) => error instanceof Outage;
const down = () => Promise.reject(new Outage('503'));
const up = () => Promise.resolve('ok');

describe('CircuitBreaker', () => {
  let clock: number;
  let changes: CircuitState[];
  let breaker: CircuitBreaker;
  let calls: number;
  const counted = (call: () => Promise<string>) => () => {
    calls++;
    return call();
  };

  beforeEach(() => {
    clock = 0;
    changes = [];
    calls = 0;
    breaker = new CircuitBreaker({
      failureThreshold: 3,
      openMs: 1000,
      now: () => clock,
      onStateChange: (state) => changes.push(state),
    });
  });

  async function fail(times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      await expect(breaker.run(counted(down), isOutage)).rejects.toBeInstanceOf(Outage);
    }
  }

  it('opens after consecutive outages and then refuses without calling', async () => {
    await fail(3);
    expect(breaker.current).toBe('open');
    await expect(breaker.run(counted(up), isOutage)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(3);
    expect(changes).toEqual(['open']);
  });

  it('counts only consecutive outages', async () => {
    await fail(2);
    await breaker.run(up, isOutage);
    await fail(2);
    expect(breaker.current).toBe('closed');
  });

  it('treats an error that is not an outage as a sign of life', async () => {
    await fail(2);
    const declined = () => Promise.reject(new Error('card_declined'));
    await expect(breaker.run(declined, isOutage)).rejects.toThrow('card_declined');
    await fail(2);
    expect(breaker.current).toBe('closed');
  });

  it('lets exactly one probe through once the open time has passed, and closes on success', async () => {
    await fail(3);
    clock = 1000;
    let release!: (value: string) => void;
    const probe = breaker.run(
      counted(() => new Promise<string>((resolve) => (release = resolve))),
      isOutage,
    );
    expect(breaker.current).toBe('half-open');
    await expect(breaker.run(counted(up), isOutage)).rejects.toBeInstanceOf(CircuitOpenError);
    release('ok');
    await expect(probe).resolves.toBe('ok');
    expect(breaker.current).toBe('closed');
    await expect(breaker.run(counted(up), isOutage)).resolves.toBe('ok');
    expect(calls).toBe(5);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again when the probe meets the outage', async () => {
    await fail(3);
    clock = 1500;
    await fail(1);
    expect(breaker.current).toBe('open');
    clock = 2499;
    await expect(breaker.run(up, isOutage)).rejects.toBeInstanceOf(CircuitOpenError);
    clock = 2500;
    await expect(breaker.run(up, isOutage)).resolves.toBe('ok');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});
