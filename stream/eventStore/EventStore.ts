import type { EventEnvelope, NewEvent } from '../EventEnvelope.js';
import type { UnreadableEvents } from './UnreadableEvents.js';

export interface AppendResult {
  readonly aggregateId: string;
  /** The stream's version after the append (its last sequence). */
  readonly version: number;
  readonly events: readonly EventEnvelope[];
  /**
   * True when these events (by id) were already stored at this position: a retried append,
   * recognised and not stored twice.
   */
  readonly duplicate: boolean;
}

export interface ReadOptions {
  /** First sequence to return (default 1). */
  readonly fromSequence?: number;
  /** Last sequence to return (default: the end). */
  readonly toSequence?: number;
  /** Only events whose timestamp is at or before this instant (ISO-8601). */
  readonly asOf?: string;
  /**
   * Report and skip events that cannot be decoded (and the rest of their stream) instead of
   * throwing: for replays, which must get past a poisoned stream.
   */
  readonly unreadable?: UnreadableEvents;
}

export interface ReadAllOptions {
  /** Parallel scan segments (default 4). */
  readonly segments?: number;
  /** Only these event types. */
  readonly eventTypes?: readonly string[];
  /** Only these aggregates (read by key, no scan). */
  readonly aggregateIds?: readonly string[];
  /** Only events with `from <= timestamp <= to` (ISO-8601). */
  readonly from?: string;
  readonly to?: string;
  /** Report and skip undecodable events and the rest of their streams (see `ReadOptions`). */
  readonly unreadable?: UnreadableEvents;
}

/**
 * The event store port: streams of events per aggregate with optimistic concurrency.
 *
 * - `append` adds events atomically after `expectedVersion` (0 for a new stream); a stale
 *   expected version throws `ConcurrencyError`; the same events appended again at the same
 *   position are recognised by their ids and not stored twice.
 * - `read` returns one stream in sequence order.
 * - `readAll` yields batches of events of every stream (in sequence order within a stream,
 *   in no particular order across streams) for replay.
 */
export interface EventStore {
  append(
    aggregateId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
  ): Promise<AppendResult>;
  read(aggregateId: string, options?: ReadOptions): Promise<EventEnvelope[]>;
  readAll(options?: ReadAllOptions): AsyncIterable<EventEnvelope[]>;
}
