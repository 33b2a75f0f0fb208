import type { Commit, StoredEvent } from './Commit.js';
import type { ReadAllOptions, ReadOptions } from './EventStore.js';

/** The events of a commit that a `read` with these options returns. */
export function readFilter(
  options: ReadOptions,
): (event: StoredEvent, sequence: number) => boolean {
  const from = options.fromSequence ?? 1;
  const to = options.toSequence ?? Number.POSITIVE_INFINITY;
  const asOf = options.asOf === undefined ? undefined : Date.parse(options.asOf);
  return (event, sequence) =>
    sequence >= from &&
    sequence <= to &&
    (asOf === undefined || Date.parse(event.timestamp) <= asOf);
}

/** The events (stored or decoded) that a `readAll` with these options returns. */
export function readAllFilter(
  options: ReadAllOptions,
): (event: { readonly event_type: string; readonly timestamp: string }) => boolean {
  const types = options.eventTypes ? new Set(options.eventTypes) : undefined;
  const from = options.from === undefined ? undefined : Date.parse(options.from);
  const to = options.to === undefined ? undefined : Date.parse(options.to);
  return (event) => {
    if (types && !types.has(event.event_type)) return false;
    if (from === undefined && to === undefined) return true;
    const at = Date.parse(event.timestamp);
    return (from === undefined || at >= from) && (to === undefined || at <= to);
  };
}

/** True when a commit may hold events in `[from, to]` of a read (commits are contiguous). */
export function commitOverlaps(commit: Commit, options: ReadOptions): boolean {
  return (
    commit.last_sequence >= (options.fromSequence ?? 1) &&
    commit.sequence <= (options.toSequence ?? Number.POSITIVE_INFINITY)
  );
}
