import type { EventEnvelope } from '../EventEnvelope.js';
import type { ScanKey, ScanPage } from '../eventStore/DynamoEventStore.js';
import type { ReadAllOptions, ReadOptions } from '../eventStore/EventStore.js';
import { type UnreadableEvent, UnreadableEvents } from '../eventStore/UnreadableEvents.js';
import { Mutex } from '../Mutex.js';

/** Where replayed events go: a read model, the domain buses, a file. */
export interface ReplayTarget {
  /** For people: "read model matches (generation 2)", "file out.jsonl", ... */
  readonly description: string;
  /**
   * False when deliveries must not overlap and a checkpoint must match the target exactly
   * (a file); true when the target takes pages of different segments at once and a page
   * delivered twice changes nothing (read models, buses).
   */
  readonly concurrent: boolean;
  /** Takes a page of events (in stream order within each stream); resolves once they are kept. */
  deliver(events: readonly EventEnvelope[]): Promise<void>;
  /** What the target has kept so far, recorded with each checkpoint (a file: its size). */
  position?(): number;
  /** Before a resumed replay: go back to the position of the checkpoint (a file: truncate). */
  resumeAt?(position: number): Promise<void>;
  /**
   * Before a replay that starts over: the target made ready and empty (a file: created, or
   * emptied), so that a replay of no events still leaves it, and one that cannot be written
   * fails before anything is read.
   */
  begin?(): Promise<void>;
  /**
   * Makes what was delivered so far durable, for a target that holds pages in memory (a
   * rebuild folding them): called before each checkpoint is saved and at the end, so a
   * checkpoint only ever covers pages whose effects were written.
   */
  flush?(): Promise<void>;
  /** After the last page. */
  close?(): Promise<void>;
}

/** The event store side of a replay: a segmented, resumable scan and reads by stream. */
export interface ReplaySource {
  scanSegmentPages(
    segment: number,
    segments: number,
    options: ReadAllOptions & { readonly startKey?: ScanKey; readonly pageSize?: number },
  ): AsyncIterable<ScanPage>;
  read(aggregateId: string, options?: ReadOptions): Promise<EventEnvelope[]>;
  approximateCommits(): Promise<number>;
}

/** A replay's progress, saved as it goes so an interrupted replay continues where it was. */
export interface ReplayCheckpoint {
  readonly name: string;
  readonly status: 'running' | 'done';
  /** What the replay reads and where it sends it: a resumed replay must be the same. */
  readonly fingerprint: string;
  readonly segments: number;
  /** Per segment: where to go on (null: done; absent: not started). */
  readonly keys: readonly (ScanKey | null | undefined)[];
  /** With `aggregateIds`: how many of them are done. */
  readonly streams_done: number;
  readonly target_position: number;
  readonly events: number;
  readonly scanned: number;
  /** Events reported unreadable or held back so far. */
  readonly unreadable?: number;
  /** Streams held back from an unreadable event on: stream → that event. */
  readonly poisoned_streams?: Readonly<Record<string, string>>;
  /**
   * A replay through the archive that applies a list of streams after its files (in order of
   * id): the last of them applied and written. Absent: none yet.
   */
  readonly streams_through?: string;
  readonly started_at: string;
  readonly updated_at: string;
}

/** Where checkpoints are kept (a DynamoDB table; in memory for tests). */
export interface ReplayCheckpoints {
  load(name: string): Promise<ReplayCheckpoint | undefined>;
  save(checkpoint: ReplayCheckpoint): Promise<void>;
}

export interface ReplayFilters {
  readonly eventTypes?: readonly string[];
  readonly aggregateIds?: readonly string[];
  /** Only events with `from <= timestamp <= to` (ISO-8601). */
  readonly from?: string;
  readonly to?: string;
}

export interface ReplayOptions {
  readonly source: ReplaySource;
  readonly target: ReplayTarget;
  /** The checkpoint's name: the same name continues an interrupted replay. */
  readonly name: string;
  readonly checkpoints: ReplayCheckpoints;
  readonly filters?: ReplayFilters;
  /** Parallel scan segments. @default 4 */
  readonly segments?: number;
  /** Commits per scan page (default: DynamoDB's 1 MB pages). */
  readonly pageSize?: number;
  /** At most this many events a second (bus targets). */
  readonly ratePerSecond?: number;
  /** Ignore a checkpoint and start over. */
  readonly restart?: boolean;
  /** How often progress is saved (and a target that holds pages flushed). @default 1000 */
  readonly checkpointEveryMs?: number;
  /** Called after each page: events delivered, commits scanned, commits in all (about). */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Stop early (resumable), e.g. on Ctrl-C. */
  readonly signal?: AbortSignal;
  /**
   * Where events go that cannot be decoded (corrupt bytes, an unknown schema), and the later
   * events of their streams, held back: the replay goes on past them. Called before the
   * checkpoint moves past their page. Without it, such an event stops the replay with its
   * error.
   */
  readonly onUnreadable?: (event: UnreadableEvent) => Promise<void>;
}

export interface ReplayProgress {
  readonly events: number;
  readonly scanned: number;
  readonly total: number;
}

export interface ReplaySummary {
  readonly name: string;
  readonly target: string;
  /** True when it went on from a checkpoint of an interrupted run. */
  readonly resumed: boolean;
  /**
   * When the replay began (ISO 8601): its first run's start for a resumed one. Every commit
   * stored before it was scanned; a later one may not have been.
   */
  readonly started_at: string;
  /** False when stopped early by the signal (run it again to go on). */
  readonly completed: boolean;
  readonly events: number;
  readonly scanned: number;
  /** Events not delivered because they (or an earlier event of their stream) cannot be read. */
  readonly unreadable: number;
  readonly seconds: number;
  readonly events_per_second: number;
}

/**
 * Re-reads events from the store and sends them to one target: a parallel segmented scan (or,
 * with `aggregateIds`, those streams read by key), filtered by event type and time, optionally
 * rate-limited. Progress is checkpointed as it goes: a replay interrupted at any point and run
 * again under the same name continues from its checkpoint; a finished one starts over.
 * A segment's checkpoint only moves past a page after the target has kept it, so a resumed
 * replay may deliver a page again (concurrent targets are idempotent) but never skips one.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  return closedOnFailure(options.target, () => replayAll(options));
}

/**
 * Runs a replay into `target`, closing it if the run fails: a failed run lets go of what its
 * target holds (a file's handle) as one that ends does; its checkpoint says where to go on.
 */
export async function closedOnFailure<T>(
  target: Pick<ReplayTarget, 'close'>,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await target.close?.().catch(() => undefined);
    throw error;
  }
}

async function replayAll(options: ReplayOptions): Promise<ReplaySummary> {
  const started = performance.now();
  const filters = options.filters ?? {};
  const segments = Math.max(1, Math.min(options.segments ?? 4, 1000));
  const fingerprint = JSON.stringify({
    target: options.target.description,
    filters,
    segments: filters.aggregateIds ? 0 : segments,
  });
  const previous = options.restart ? undefined : await options.checkpoints.load(options.name);
  if (previous && previous.status === 'running' && previous.fingerprint !== fingerprint) {
    throw new Error(
      `replay "${options.name}" was interrupted with other settings (${previous.fingerprint}); run it with those, or start over with a new name or --restart`,
    );
  }
  const resumed = previous?.status === 'running';
  const state = {
    keys: resumed ? [...previous.keys] : Array.from({ length: segments }, () => undefined),
    streamsDone: resumed ? previous.streams_done : 0,
    events: resumed ? previous.events : 0,
    scanned: resumed ? previous.scanned : 0,
  } as {
    keys: (ScanKey | null | undefined)[];
    streamsDone: number;
    events: number;
    scanned: number;
  };
  // Unreadable events found by the scan, waiting to be handed to `onUnreadable`.
  const found: UnreadableEvent[] = [];
  const onUnreadable = options.onUnreadable;
  const unreadable = onUnreadable
    ? new UnreadableEvents(
        (event) => found.push(event),
        resumed ? (previous.poisoned_streams ?? {}) : {},
      )
    : undefined;
  const unreadableBefore = resumed ? (previous.unreadable ?? 0) : 0;
  const sendUnreadable = async () => {
    if (!onUnreadable) return;
    for (const event of found.splice(0)) await onUnreadable(event);
  };
  const startedAt = resumed ? previous.started_at : new Date().toISOString();
  if (resumed) await options.target.resumeAt?.(previous.target_position);
  else await options.target.begin?.();
  const total = filters.aggregateIds
    ? filters.aggregateIds.length
    : await options.source.approximateCommits();
  const limiter = options.ratePerSecond ? new RateLimiter(options.ratePerSecond) : undefined;
  const exclusive = new Mutex();
  let lastSave = Date.now();
  const snapshot = (status: ReplayCheckpoint['status']): ReplayCheckpoint => ({
    name: options.name,
    status,
    fingerprint,
    segments,
    keys: [...state.keys],
    streams_done: state.streamsDone,
    target_position: options.target.position?.() ?? 0,
    events: state.events,
    scanned: state.scanned,
    ...(unreadable
      ? {
          unreadable: unreadableBefore + unreadable.count,
          poisoned_streams: unreadable.streams(),
        }
      : {}),
    started_at: startedAt,
    updated_at: new Date().toISOString(),
  });
  const maybeSave = async () => {
    if (Date.now() - lastSave < (options.checkpointEveryMs ?? 1000)) return;
    lastSave = Date.now();
    // What the snapshot covers was delivered before it was taken: the flush writes it.
    const checkpoint = snapshot('running');
    await options.target.flush?.();
    await options.checkpoints.save(checkpoint);
  };
  const stopped = () => options.signal?.aborted === true;
  /** Delivers a page and moves the checkpoint past it, atomically for a non-concurrent target. */
  const deliver = async (events: readonly EventEnvelope[], advance: () => void) => {
    if (limiter && events.length > 0) {
      await limiter.take(events.length, options.signal);
      // Interrupted while it waited for the rate: the page is left to the run that goes on,
      // not sent at once.
      if (stopped()) return;
    }
    const run = async () => {
      if (events.length > 0) await options.target.deliver(events);
      await sendUnreadable();
      advance();
      options.onProgress?.({ events: state.events, scanned: state.scanned, total });
      await maybeSave();
    };
    if (options.target.concurrent) await run();
    else await exclusive.run(run);
  };

  await options.checkpoints.save(snapshot('running'));
  if (filters.aggregateIds) {
    const keep = filterOf(filters);
    for (const id of filters.aggregateIds.slice(state.streamsDone)) {
      if (stopped()) break;
      const events = (await options.source.read(id, unreadable ? { unreadable } : {})).filter(keep);
      await deliver(events, () => {
        state.streamsDone++;
        state.events += events.length;
        state.scanned++;
      });
    }
  } else {
    const { aggregateIds: _, ...scanFilters } = filters;
    await Promise.all(
      state.keys.map(async (key, segment) => {
        if (key === null) return; // finished in an earlier run
        const pages = options.source.scanSegmentPages(segment, segments, {
          ...scanFilters,
          ...(key ? { startKey: key } : {}),
          ...(options.pageSize ? { pageSize: options.pageSize } : {}),
          ...(unreadable ? { unreadable } : {}),
        });
        for await (const page of pages) {
          await deliver(page.events, () => {
            state.keys[segment] = page.next;
            state.events += page.events.length;
            state.scanned += page.scanned;
          });
          if (stopped()) break;
        }
      }),
    );
  }
  const completed =
    !stopped() &&
    (filters.aggregateIds
      ? state.streamsDone >= filters.aggregateIds.length
      : state.keys.every((k) => k === null));
  await sendUnreadable();
  await options.target.flush?.();
  await options.target.close?.();
  await options.checkpoints.save(snapshot(completed ? 'done' : 'running'));
  const seconds = (performance.now() - started) / 1000;
  return {
    name: options.name,
    target: options.target.description,
    resumed,
    started_at: startedAt,
    completed,
    events: state.events,
    scanned: state.scanned,
    unreadable: unreadableBefore + (unreadable?.count ?? 0),
    seconds: Number(seconds.toFixed(3)),
    events_per_second: Math.round(state.events / Math.max(seconds, 0.001)),
  };
}

function filterOf(filters: ReplayFilters): (e: EventEnvelope) => boolean {
  const types = filters.eventTypes ? new Set(filters.eventTypes) : undefined;
  const from = filters.from === undefined ? undefined : Date.parse(filters.from);
  const to = filters.to === undefined ? undefined : Date.parse(filters.to);
  return (e) => {
    if (types && !types.has(e.event_type)) return false;
    const at = Date.parse(e.timestamp);
    return (from === undefined || at >= from) && (to === undefined || at <= to);
  };
}

/** A token bucket: `take(n)` waits until n events fit in the rate. */
export class RateLimiter {
  private available: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = {
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  ) {
    this.available = perSecond;
    this.last = clock.now();
  }

  async take(n: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.available = Math.min(
        this.perSecond,
        this.available + ((now - this.last) / 1000) * this.perSecond,
      );
      this.last = now;
      // A page larger than a second's worth goes once the bucket is full.
      if (this.available >= Math.min(n, this.perSecond)) {
        this.available -= n;
        return;
      }
      if (signal?.aborted) return;
      const wait = ((Math.min(n, this.perSecond) - this.available) / this.perSecond) * 1000;
      await this.clock.sleep(Math.max(1, wait));
    }
  }
}
