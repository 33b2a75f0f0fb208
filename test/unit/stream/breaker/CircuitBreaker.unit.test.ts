import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBreakerStateStore } from '../../../../stream/breaker/BreakerStateStore.js';
import {
  type BreakerTransition,
  CircuitBreaker,
  DEFAULT_BREAKER_SETTINGS,
  halfOpenDelay,
  isOutage,
} from '../../../../stream/breaker/CircuitBreaker.js';
import { DependencyUnavailable, heldBy } from '../../../../stream/breaker/DependencyUnavailable.js';
import { StoreError } from '../../../../stream/StoreError.js';

const settings = {
  failureRatio: 0.5,
  windowMs: 10_000,
  minimumCalls: 4,
  consecutiveFailures: 6,
  halfOpenAfterMs: 2_000,
  maxHalfOpenAfterMs: 60_000,
  syncMs: 500,
};
const throttled = () =>
  Object.assign(new Error('rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
  });
const refused = () =>
  Object.assign(new Error('the conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    $metadata: { httpStatusCode: 400 },
  });

/** A dependency that fails while `down` is set, and counts the calls it gets. */
function dependency() {
  const dep = {
    down: false,
    calls: 0,
    call: async () => {
      dep.calls++;
      if (dep.down) throw throttled();
      return 'ok';
    },
  };
  return dep;
}

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-10-01T12:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('a circuit breaker', () => {
  it('opens when outages pass the ratio over the fewest calls, then holds calls without making them', async () => {
    // Prepare
    const dep = dependency();
    const transitions: BreakerTransition[] = [];
    const breaker = new CircuitBreaker('read-models/read-model-tables', {
      settings,
      onTransition: (t) => transitions.push(t),
    });
    for (let i = 0; i < 3; i++) await breaker.execute(dep.call);
    dep.down = true;

    // Act: 3 successes then failures: open once failures are more than half of at least 4.
    const errors: unknown[] = [];
    for (let i = 0; i < 4; i++) errors.push(await outcome(breaker.execute(dep.call)));
    const held = await outcome(breaker.execute(dep.call));

    // Assess
    // The three before it failed; the one that opened it is held, with its own error as the cause.
    expect(errors.slice(0, 3).map((e) => (e as Error).name)).toEqual(
      Array(3).fill('ProvisionedThroughputExceededException'),
    );
    expect(errors[3]).toBeInstanceOf(DependencyUnavailable);
    expect((errors[3] as Error).cause).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(breaker.state).toBe('open');
    expect(dep.calls).toBe(7);
    expect(held).toBeInstanceOf(DependencyUnavailable);
    expect((held as DependencyUnavailable).retryAt).toBe(Date.now() + settings.halfOpenAfterMs);
    expect((held as DependencyUnavailable).breaker).toBe('read-models/read-model-tables');
    expect(transitions).toEqual([
      expect.objectContaining({
        kind: 'opened',
        name: 'read-models/read-model-tables',
        shared: false,
      }),
    ]);
    expect(breaker.snapshot()).toMatchObject({
      state: 'open',
      opened: 1,
      held: 2,
      half_open_at: new Date(Date.now() + settings.halfOpenAfterMs).toISOString(),
      reason: 'rate of requests exceeds the allowed throughput',
    });
  });

  it('stays closed for errors that are the caller’s, and for too few calls', async () => {
    const breaker = new CircuitBreaker('b', { settings });
    for (let i = 0; i < 10; i++) await outcome(breaker.execute(() => Promise.reject(refused())));
    expect(breaker.state).toBe('closed');

    const quiet = new CircuitBreaker('quiet', { settings });
    for (let i = 0; i < settings.minimumCalls - 1; i++)
      await outcome(quiet.execute(() => Promise.reject(throttled())));
    expect(quiet.state).toBe('closed');
  });

  it('lets one trial through after the wait: its success closes it', async () => {
    // Prepare: opened
    const dep = dependency();
    dep.down = true;
    const transitions: string[] = [];
    const breaker = new CircuitBreaker('b', {
      settings,
      onTransition: (t) => transitions.push(t.kind),
    });
    for (let i = 0; i < 4; i++) await outcome(breaker.execute(dep.call));
    expect(breaker.state).toBe('open');
    const callsWhenOpened = dep.calls;

    // Act: just before the wait ends, still held; after it, a slow trial and a call beside it.
    vi.advanceTimersByTime(settings.halfOpenAfterMs - 1);
    expect(await outcome(breaker.execute(dep.call))).toBeInstanceOf(DependencyUnavailable);
    vi.advanceTimersByTime(1);
    dep.down = false;
    let release: () => void = () => undefined;
    const trial = breaker.execute(
      () => new Promise<string>((resolve) => (release = () => resolve('trial ok'))),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.state).toBe('half-open');
    const beside = breaker.execute(dep.call);
    release();

    // Assess: the call beside the trial waited for it, then went through closed.
    expect(await trial).toBe('trial ok');
    expect(await beside).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(dep.calls).toBe(callsWhenOpened + 1);
    expect(transitions).toEqual(['opened', 'half-open', 'closed']);
    expect(breaker.snapshot()).toMatchObject({
      opened: 1,
      half_open_trials: 1,
      closed: 1,
      held: 2,
      open_ms: settings.halfOpenAfterMs,
    });
  });

  it('opens again after a failed trial, for twice as long', async () => {
    const dep = dependency();
    dep.down = true;
    const transitions: string[] = [];
    const breaker = new CircuitBreaker('b', {
      settings,
      onTransition: (t) => transitions.push(t.kind),
    });
    for (let i = 0; i < 4; i++) await outcome(breaker.execute(dep.call));
    vi.advanceTimersByTime(settings.halfOpenAfterMs);

    await outcome(breaker.execute(dep.call)); // the trial, failing

    expect(breaker.state).toBe('open');
    expect(breaker.retryAt()).toBe(Date.now() + 2 * settings.halfOpenAfterMs);
    expect(transitions).toEqual(['opened', 'half-open', 'reopened']);
    expect(halfOpenDelay(settings, 30)).toBe(settings.maxHalfOpenAfterMs);
  });
});

describe('breakers sharing their state', () => {
  it('protects the other instances from what one found out, and closes them with its trial', async () => {
    // Prepare: two instances of one consumer around one dependency.
    const shared = new InMemoryBreakerStateStore();
    const dep = dependency();
    const a = new CircuitBreaker('c/read-model-tables', { settings, shared, instance: 'a' });
    const b = new CircuitBreaker('c/read-model-tables', { settings, shared, instance: 'b' });
    await b.execute(dep.call);

    // Act: a finds the outage; b looks at the shared state after its sync interval.
    dep.down = true;
    for (let i = 0; i < 4; i++) await outcome(a.execute(dep.call));
    await a.flushed();
    vi.advanceTimersByTime(settings.syncMs);
    const calls = dep.calls;
    const heldAtB = await outcome(b.execute(dep.call));

    // Assess: b held the call without making it, with a's trial time.
    expect(heldAtB).toBeInstanceOf(DependencyUnavailable);
    expect(dep.calls).toBe(calls);
    expect(b.state).toBe('open');
    expect(b.retryAt()).toBe(a.retryAt());
    expect(await shared.get('c/read-model-tables')).toMatchObject({ state: 'open', by: 'a' });

    // Act: a's trial succeeds; b adopts the closing at its next look.
    vi.advanceTimersByTime(settings.halfOpenAfterMs);
    dep.down = false;
    expect(await a.execute(dep.call)).toBe('ok');
    await a.flushed();
    expect(await shared.get('c/read-model-tables')).toMatchObject({ state: 'closed', by: 'a' });
    vi.setSystemTime(Date.now() - 1); // b's own trial is not due yet, its look is
    vi.advanceTimersByTime(1);
    expect(await b.execute(dep.call)).toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('goes on alone when the shared state cannot be read or written', async () => {
    const errors: Error[] = [];
    const broken = {
      get: () => Promise.reject(new Error('table unreachable')),
      put: () => Promise.reject(new Error('table unreachable')),
      list: () => Promise.resolve([]),
    };
    const dep = dependency();
    dep.down = true;
    const breaker = new CircuitBreaker('b', {
      settings,
      shared: broken,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 4; i++) await outcome(breaker.execute(dep.call));
    await breaker.flushed();
    expect(breaker.state).toBe('open');
    expect(errors.map((e) => e.message)).toContain('table unreachable');
  });
});

describe('what counts as an outage', () => {
  it('is throttling, 5xx, dropped connections and writes left unprocessed, not the caller’s errors', () => {
    expect(isOutage(throttled())).toBe(true);
    expect(isOutage(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(
      true,
    );
    expect(isOutage(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(
      isOutage(new StoreError('STORE_UNAVAILABLE', '3 of 25 writes failed after retries')),
    ).toBe(true);
    expect(isOutage(refused())).toBe(false);
    expect(isOutage(new StoreError('ITEM_TOO_LARGE', 'too large'))).toBe(false);
    expect(isOutage(new Error('a bug'))).toBe(false);
  });

  it('is found in a cause when the hold reaches the runner wrapped', () => {
    const held = new DependencyUnavailable('x/put-events', 1, 'throttled');
    expect(heldBy(new Error('delivery failed', { cause: held }))).toBe(held);
    expect(heldBy(new Error('other'))).toBeUndefined();
    expect(DEFAULT_BREAKER_SETTINGS.minimumCalls).toBeGreaterThan(1);
  });
});

describe('failures in a row', () => {
  it('open a busy breaker whose window is full of successes', async () => {
    const dep = dependency();
    const breaker = new CircuitBreaker('busy', {
      settings: { ...settings, consecutiveFailures: 3 },
    });
    for (let i = 0; i < 50; i++) await breaker.execute(dep.call);
    dep.down = true;

    for (let i = 0; i < 2; i++) await outcome(breaker.execute(dep.call));
    expect(breaker.state).toBe('closed'); // two in a row: not yet
    await outcome(breaker.execute(dep.call));

    expect(breaker.state).toBe('open');
    expect(await outcome(breaker.execute(dep.call))).toBeInstanceOf(DependencyUnavailable);
  });
});

describe('a hold reached through work run side by side', () => {
  it('is a hold only when every part was held, at the latest trial time', () => {
    const early = new DependencyUnavailable('a/read-model-tables', 1_000);
    const late = new DependencyUnavailable('a/read-model-tables', 2_000);
    const all = new Error('read models failed', { cause: new AggregateError([early, late]) });
    const mixed = new Error('read models failed', {
      cause: new AggregateError([early, new Error('a bug')]),
    });
    expect(heldBy(all)).toBe(late);
    expect(heldBy(mixed)).toBeUndefined();
  });
});
