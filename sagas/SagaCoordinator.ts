import { randomUUID } from 'node:crypto';
import { heldBy } from '../stream/breaker/DependencyUnavailable.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { ConcurrencyError } from '../stream/StoreError.js';
import { uuidFromName } from '../stream/uuid.js';
import { type Decision, decide, failure, held, type SagaEventToAppend } from './decide.js';
import type { SagaDefinition } from './SagaDefinition.js';
import { SagaError, worthRetrying } from './SagaError.js';
import { foldSaga, hasEnded, hasNotBegun, type SagaState } from './sagaState.js';

/** How long a timed-out attempt is given to stop before its failure is recorded. */
export const ABANDON_GRACE_MS = 5_000;

/** How often a saga that waits for an earlier one to end looks at it again. */
export const AFTER_POLL_MS = 250;

/** How every saga's stream id begins (the saga consumer reads only those streams). */
export const SAGA_STREAM_PREFIX = 'saga:';

/** The stream of a saga. */
export const sagaStream = (sagaId: string): string => `${SAGA_STREAM_PREFIX}${sagaId}`;

/** The sagas these events belong to (saga events are in the streams `saga:<id>`). */
export function sagaIdsOf(events: readonly EventEnvelope[]): Set<string> {
  return new Set(
    events.filter((e) => e.aggregate_id.startsWith('saga:')).map((e) => e.aggregate_id.slice(5)),
  );
}

/** One attempt of a step's action or compensation, as a `StepHook` sees it. */
export interface StepAttempt {
  readonly sagaId: string;
  readonly step: string;
  readonly compensation: boolean;
  readonly attempt: number;
  /** Aborted when the attempt times out. */
  readonly signal: AbortSignal;
}

/**
 * Wraps every attempt the coordinator makes, around the step's own work (`run`): the way in
 * for what is not the saga's business, such as the faults the chaos scenarios and
 * `--inject-fault` inject (see `faults.ts`). Whatever it throws is the attempt's failure;
 * a `CoordinatorStop` stops the coordinator dead instead.
 */
export type StepHook = (attempt: StepAttempt, run: () => Promise<unknown>) => Promise<unknown>;

/** Thrown by a step hook to stop the coordinator dead, as a crashed process would stop. */
export class CoordinatorStop extends Error {
  override readonly name: string = 'CoordinatorStop';
}

export interface SagaCoordinatorOptions {
  readonly store: EventStore;
  readonly definitions: readonly SagaDefinition<unknown>[];
  /** Ids of sagas that may still need driving (running or compensating), for the sweep. */
  readonly activeSagas?: () => Promise<readonly string[]>;
  /** How often the sweep drives every active saga (timeouts and retries after a restart). @default 5000 */
  readonly sweepIntervalMs?: number;
  /** Wraps every attempt (see `StepHook`). */
  readonly hook?: StepHook;
  readonly now?: () => number;
  /** Each saga event the coordinator appended. */
  readonly onEvent?: (sagaId: string, eventType: string) => void;
  /** Failures of the coordinator itself (not of steps), for logging. */
  readonly onError?: (error: Error) => void;
  /**
   * How a saga that must wait (for `not_before`, or a retry's backoff) is woken. `timer` (the
   * default, for a long-running process): a timer in this process drives it again. A function
   * (for a Lambda function, which freezes between invocations): asked with the time the saga
   * waits until and how long this drive of it has slept already (ms), true sleeps in place and
   * carries on; false leaves the saga to the sweep.
   */
  readonly wake?: 'timer' | ((until: number, slept: number) => boolean);
  /**
   * Whether `begin` drives the saga it started. @default true. False where something else
   * drives every saga whose events reach the stream (the saga consumer on AWS), so a short-lived
   * caller leaves no drive half done.
   */
  readonly driveOnBegin?: boolean;
}

/**
 * Runs sagas whose state lives only in the event store. `drive(id)` reads the saga's stream,
 * decides the next move (`decide`) and makes it — appending the next saga event, running a
 * step or a compensation with its timeout, or waiting for a retry with a timer — until the saga
 * waits or ends. The stream drives it: every saga event that arrives (see `onEvents`) drives
 * its saga again, and a periodic sweep drives every active one, so a restarted coordinator
 * resumes from whatever the store holds. Two coordinators on one saga are harmless: the loser
 * of an append re-reads and re-decides, and steps are idempotent.
 */
export class SagaCoordinator {
  private readonly definitions = new Map<string, SagaDefinition<unknown>>();
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;
  private crashed = false;
  private stopped = false;
  private held = false;
  /** Sagas asked to move while held: driven on release. */
  private readonly heldBack = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: SagaCoordinatorOptions) {
    for (const d of options.definitions) this.definitions.set(d.type, d);
    this.now = options.now ?? Date.now;
  }

  /** Starts the sweep (drives active sagas now and every `sweepIntervalMs`). */
  start(): void {
    this.stopped = false;
    void this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? 5000);
  }

  /** Stops timers and the sweep, and waits for the drives under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.lanes.values()]);
  }

  /**
   * Moves no saga until `release`: a drive asked for meanwhile waits. For a bulk load's catch-up,
   * whose requests, however long it takes, then fall to the saga waiting. Resolves once the
   * drives under way have stopped (each at its next move): from then on no saga moves.
   */
  async hold(): Promise<void> {
    this.held = true;
    await Promise.allSettled([...this.lanes.values()]);
  }

  /** Drives the sagas held back, and every active one. */
  async release(): Promise<void> {
    this.held = false;
    const ids = [...this.heldBack];
    this.heldBack.clear();
    for (const id of ids) void this.drive(id);
    await this.sweep();
  }

  /** True once a hook stopped this coordinator dead (a new one must take over). */
  get hasCrashed(): boolean {
    return this.crashed;
  }

  /** Starts a saga: appends `SagaStarted` and drives it. Returns its id. */
  async begin<D>(
    definition: SagaDefinition<D>,
    data: D,
    sagaId: string = randomUUID(),
  ): Promise<string> {
    return (await this.beginOnce(definition, data, sagaId)).sagaId;
  }

  /**
   * Starts the saga with this id unless it exists: `created` is false when a saga of that id
   * was started already (by anyone, with any data), and nothing was appended.
   */
  async beginOnce<D>(
    definition: SagaDefinition<D>,
    data: D,
    sagaId: string,
  ): Promise<{ sagaId: string; created: boolean }> {
    let created = true;
    try {
      const result = await this.options.store.append(sagaStream(sagaId), 0, [
        {
          event_type: 'SagaStarted',
          event_id: uuidFromName(`${sagaStream(sagaId)}#1`),
          correlation_id: sagaId,
          data: {
            saga_id: sagaId,
            saga_type: definition.type,
            steps: definition.steps.map((s) => s.name),
            data: JSON.stringify(data),
            compensations: Object.fromEntries(
              definition.steps.map((s) => [s.name, s.compensation.name]),
            ),
          },
        },
      ]);
      created = !result.duplicate;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      created = false;
    }
    if (created) this.options.onEvent?.(sagaId, 'SagaStarted');
    if (this.options.driveOnBegin !== false) void this.drive(sagaId);
    return { sagaId, created };
  }

  /** For the stream consumer: saga events that arrived drive their sagas (without waiting). */
  async onEvents(events: readonly EventEnvelope[]): Promise<void> {
    for (const id of sagaIdsOf(events)) void this.drive(id);
  }

  /** Drives these sagas and resolves when each has reached rest (waiting or ended). */
  async driveAll(sagaIds: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(sagaIds)].map((id) => this.drive(id)));
  }

  /** Drives every active saga (after a restart: the timeouts and retries that were pending). */
  async sweep(): Promise<void> {
    if (!this.options.activeSagas || this.stopped || this.crashed) return;
    try {
      for (const id of await this.options.activeSagas()) void this.drive(id);
    } catch (error) {
      this.report(error);
    }
  }

  /** Drives one saga until it waits or ends; drives of one saga run one after another. */
  drive(sagaId: string): Promise<void> {
    const previous = this.lanes.get(sagaId) ?? Promise.resolve();
    const next = previous.then(() => this.advance(sagaId)).catch((error) => this.report(error));
    this.lanes.set(sagaId, next);
    void next.finally(() => {
      if (this.lanes.get(sagaId) === next) this.lanes.delete(sagaId);
    });
    return next;
  }

  /** Resolves when the saga reaches an end state (completed, compensated or failed). */
  async waitFor(sagaId: string, timeoutMs = 60_000): Promise<SagaState> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const state = foldSaga(await this.options.store.read(sagaStream(sagaId)));
      if (state && hasEnded(state)) return state;
      if (this.now() > deadline)
        throw new SagaError(
          'NOT_FINISHED',
          `saga ${sagaId} did not finish within ${timeoutMs} ms`,
          {
            retryable: true,
            context: { sagaId },
          },
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async advance(sagaId: string): Promise<void> {
    const timer = this.timers.get(sagaId);
    if (timer) clearTimeout(timer);
    this.timers.delete(sagaId);
    // How long this drive has slept in place (a start deferred again and again adds up).
    let slept = 0;
    for (let moves = 0; moves < 1000; moves++) {
      if (this.crashed || this.stopped) return;
      if (this.held) {
        this.heldBack.add(sagaId);
        return;
      }
      const state = foldSaga(await this.options.store.read(sagaStream(sagaId)));
      if (!state) return;
      const definition = this.definitions.get(state.type);
      if (!definition)
        throw new SagaError(
          'UNKNOWN_DEFINITION',
          `saga ${sagaId} is of unknown type ${state.type}`,
          {
            retryable: false,
            context: { sagaId },
          },
        );
      let decision = decide(state, definition, this.now());
      if (decision.kind === 'done') {
        // One that waits for this saga to end may begin (on AWS, before the next sweep).
        if (moves > 0) await this.sweep();
        return;
      }
      const behind = await this.behind(state, definition);
      if (behind !== undefined) decision = { kind: 'wait', until: behind };
      else if (decision.kind !== 'wait') {
        const deferred = await this.deferred(state, definition);
        if (deferred !== undefined) decision = { kind: 'wait', until: deferred };
      }
      if (decision.kind === 'wait') {
        const before = this.now();
        if (await this.waitHere(sagaId, decision.until, slept)) {
          slept += Math.max(0, this.now() - before);
          continue;
        }
        return;
      }
      const event =
        decision.kind === 'append' ? decision.event : await this.run(state, definition, decision);
      if (!event) return; // crashed
      try {
        await this.options.store.append(sagaStream(sagaId), state.version, [
          {
            ...event,
            // Deterministic: a retry of the same move by another coordinator is recognised.
            event_id: uuidFromName(
              `${sagaStream(sagaId)}#${state.version + 1}#${event.event_type}`,
            ),
            correlation_id: sagaId,
          },
        ]);
        this.options.onEvent?.(sagaId, event.event_type);
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        // Somebody else moved the saga: read it again and decide again.
      }
    }
  }

  /**
   * Waits until `until` to drive the saga again: here, when a `wake` says this caller may wait
   * (true: go on), else with a timer that drives it then (false: return).
   */
  private async waitHere(sagaId: string, until: number, slept: number): Promise<boolean> {
    const wake = this.options.wake ?? 'timer';
    if (wake !== 'timer') {
      if (!wake(until, slept)) return false;
      // A timer may fire a millisecond before the clock reaches `until`; one more keeps the
      // next decision from being the same wait, asked for again.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - this.now()) + 1));
      return true;
    }
    this.timers.set(
      sagaId,
      setTimeout(() => void this.drive(sagaId), Math.max(0, until - this.now())),
    );
    return false;
  }

  /**
   * Until when a saga that has not begun waits before it looks again at the saga it must come
   * after (its definition's `after`), while that one has not ended; undefined when it need not.
   */
  private async behind(
    state: SagaState,
    definition: SagaDefinition<unknown>,
  ): Promise<number | undefined> {
    if (!hasNotBegun(state)) return undefined;
    const after = definition.after?.(definition.parseData(state.data));
    if (after === undefined) return undefined;
    const earlier = foldSaga(await this.options.store.read(sagaStream(after)));
    return earlier && !hasEnded(earlier) ? this.now() + AFTER_POLL_MS : undefined;
  }

  /**
   * Until when a saga about to begin waits because its start was deferred (its definition's
   * `deferredUntil`, later than now); undefined when it need not.
   */
  private async deferred(
    state: SagaState,
    definition: SagaDefinition<unknown>,
  ): Promise<number | undefined> {
    if (!definition.deferredUntil || !hasNotBegun(state)) return undefined;
    const until = await definition.deferredUntil(state.sagaId, definition.parseData(state.data));
    return until !== undefined && until > this.now() ? until : undefined;
  }

  /** Runs a step's action or compensation within its deadline; the event that records the outcome. */
  private async run(
    state: SagaState,
    definition: SagaDefinition<unknown>,
    decision: Extract<Decision, { kind: 'run' }>,
  ): Promise<SagaEventToAppend | undefined> {
    const step = definition.steps.find((s) => s.name === decision.step);
    if (!step)
      throw new SagaError('UNKNOWN_DEFINITION', `saga ${state.sagaId}: no step ${decision.step}`, {
        retryable: false,
        context: { sagaId: state.sagaId, step: decision.step },
      });
    const policy = decision.compensation ? definition.compensationRetry : step.retry;
    const data = definition.parseData(state.data);
    const controller = new AbortController();
    const remaining = Math.max(0, decision.deadline - this.now());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, remaining);
    });
    const run = async (): Promise<unknown> =>
      decision.compensation
        ? step.compensation.run({
            sagaId: state.sagaId,
            data,
            output: state.steps.find((s) => s.name === step.name)?.output,
            attempt: decision.attempt,
            signal: controller.signal,
          })
        : step.action({
            sagaId: state.sagaId,
            data,
            outputs: Object.fromEntries(
              state.steps.filter((s) => s.status === 'completed').map((s) => [s.name, s.output]),
            ),
            attempt: decision.attempt,
            signal: controller.signal,
          });
    const hook = this.options.hook;
    const work = (): Promise<unknown> =>
      hook
        ? hook(
            {
              sagaId: state.sagaId,
              step: step.name,
              compensation: decision.compensation,
              attempt: decision.attempt,
              signal: controller.signal,
            },
            run,
          )
        : run();
    try {
      const attempt = work();
      const outcome = await Promise.race([attempt, timedOut]);
      if (outcome === 'timeout') {
        // Let the abandoned attempt notice the abort before the saga moves on, so it cannot
        // write behind a compensation (bounded: an attempt deaf to the signal is left behind).
        await Promise.race([
          attempt.catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, ABANDON_GRACE_MS)),
        ]);
        const f = failure(
          state.sagaId,
          step.name,
          decision.attempt,
          `timed out after ${decision.timeoutMs} ms`,
          decision.attempt < policy.maxAttempts,
          true,
          decision.compensation,
        );
        return f.kind === 'append' ? f.event : undefined;
      }
      return decision.compensation
        ? {
            event_type: 'SagaCompensationCompleted',
            data: { saga_id: state.sagaId, step_name: step.name, attempt: decision.attempt },
          }
        : {
            event_type: 'SagaStepCompleted',
            data: {
              saga_id: state.sagaId,
              step_name: step.name,
              attempt: decision.attempt,
              output: JSON.stringify(outcome ?? null),
            },
          };
    } catch (error) {
      if (error instanceof CoordinatorStop) {
        this.crashed = true;
        for (const t of this.timers.values()) clearTimeout(t);
        return undefined;
      }
      // A dependency of the step is out: the hold is recorded instead of an attempt, and the
      // saga waits for the breaker's trial (see `held`).
      const unavailable = heldBy(error);
      if (unavailable) return held(state.sagaId, decision, unavailable, this.now());
      const message = error instanceof Error ? error.message : String(error);
      const f = failure(
        state.sagaId,
        step.name,
        decision.attempt,
        message,
        decision.attempt < policy.maxAttempts && worthRetrying(error),
        false,
        decision.compensation,
      );
      return f.kind === 'append' ? f.event : undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private report(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }
}
