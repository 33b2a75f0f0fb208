import type { EventType } from '../schemas/events.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';

/** Where a document lives: a partition key and a sort key. */
export interface DocKey {
  readonly pk: string;
  readonly sk: string;
}

/** A read-model document: a plain JSON object. */
export type Doc = object;

export interface StoredDoc extends DocKey {
  readonly doc: Doc;
  /**
   * When the document may go (epoch seconds): DynamoDB's TTL deletes it some time after, as
   * `expires_at`. Absent: kept.
   */
  readonly expires_at?: number;
  /**
   * A document of `DocChanges.marks` as last written: a value the projector makes new at
   * each write, not part of the document (a comparison of two generations leaves it out).
   */
  readonly mark?: string;
}

/**
 * Changes to the entries of one shared item. An item that many streams write (a team's
 * matches of a season, a day's counts) holds one entry per stream, named after the stream,
 * and each writer sets or removes only its own entries: atomic per item, and writers on
 * several shards never undo each other (DynamoDB's UpdateItem `SET`/`REMOVE` of attributes).
 * Read back, the item's document is an object of its entries by name.
 */
export interface EntryChanges extends DocKey {
  /** Entries to set, by name (an entry's value is a document of its own). */
  readonly set?: Readonly<Record<string, Doc>>;
  /** Entries to remove, by name (absent ones are nothing to remove). */
  readonly remove?: readonly string[];
}

/** The documents an event changes. */
export interface DocChanges {
  readonly put?: readonly StoredDoc[];
  readonly delete?: readonly DocKey[];
  /** Entries of shared items (never a key that `put` or `delete` writes). */
  readonly entries?: readonly EntryChanges[];
  /**
   * Documents written after every other change of the batch (of the flush, when folding),
   * whether or not the event changed anything (a repeat too), each with a new `mark`
   * (`StoredDoc.mark`). A reader that sums documents many streams write, reading a mark
   * before them and caching the sum by it, sees a new mark once any of them changed: a
   * change is written before its mark, and a batch cut short before its marks is delivered
   * again, as repeats that write the marks. Never a key the projection reads or writes
   * otherwise.
   */
  readonly marks?: readonly StoredDoc[];
}

/** The documents a projection may look at while it evolves (those it declared in `reads`). */
export interface DocView {
  get(key: DocKey): Doc | undefined;
}

/**
 * A read model: a name, a version, and a pure `evolve` from (documents, event) to changed
 * documents. Documents are upserts keyed by what they describe, guarded by the source
 * stream's sequence where a document follows one stream, so applying an event twice changes
 * nothing: a consumer that repeats its last batch after a crash leaves the same state.
 *
 * `reads` names the documents `evolve` looks at; it is asked again with what was loaded, until
 * it names nothing new (so a document found through another can be read too).
 *
 * Every document must be written by events of one stream only (an index entry per match,
 * not one document per team that every match of the team rewrites): consumers work on
 * several shards at once, and a document two streams write could lose one of the writes.
 * What many streams share is an item of entries instead (`entries`), each stream writing only
 * entries named after it: one write per item per batch however many streams it gathers.
 *
 * Events come typed (`EventEnvelope`, discriminated by `event_type`): a read model says what it
 * does with each event type in an exhaustive `switch` ending in `unhandled`, so a new event
 * type fails the type check until every read model has decided about it.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** The event types it uses (`'*'` for all); every other event is applied as a no-op. */
  readonly eventTypes: readonly EventType[] | '*';
  /**
   * Every document it decides by keeps the sequence of the one stream that writes it, and an
   * event at or below that changes nothing: an event delivered again has no effect at any
   * time, not only after a crash. Its consumer then keeps no position for a stream whose one
   * event applied is its first (see `AggregateSequencer`'s `skipFirstPositions`), a write
   * less per stream. @default false
   */
  readonly guardsRepeats?: boolean;
  reads(event: EventEnvelope, view: DocView): readonly DocKey[];
  evolve(view: DocView, event: EventEnvelope): DocChanges;
}

/** `pk` and `sk` as one string, for maps. */
export function keyString(key: DocKey): string {
  return `${key.pk}\u0000${key.sk}`;
}
