import { randomUUID } from 'node:crypto';
import { SchemaError } from '../../schemas/SchemaError.js';
import type { DecodedData, SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { EventEnvelope, NewEvent } from '../EventEnvelope.js';
import { StoreError } from '../StoreError.js';
import type { AppendResult } from './EventStore.js';
import { storedData } from './storedData.js';
import type { UnreadableEvents } from './UnreadableEvents.js';

/** One event as stored: its data as Avro binary with the writer schema's fingerprint. */
export interface StoredEvent {
  readonly event_id: string;
  readonly event_type: string;
  /** Writer schema version of `data`. */
  readonly version: number;
  /** SHA-256 fingerprint (hex) of the writer schema's canonical form. */
  readonly fingerprint: string;
  readonly data: Uint8Array;
  readonly timestamp: string;
  readonly correlation_id: string;
  readonly causation_id: string | null;
}

/**
 * The unit of storage: every event of one append, in one item keyed by the aggregate and the
 * first event's sequence. DynamoDB writes a single item atomically with a condition, so a
 * multi-event append is all-or-nothing without TransactWriteItems (which dynalite lacks), and
 * the change stream delivers a commit as one record.
 */
export interface Commit {
  readonly aggregate_id: string;
  /** Sequence of the first event (the sort key). */
  readonly sequence: number;
  readonly last_sequence: number;
  readonly committed_at: string;
  readonly events: readonly StoredEvent[];
}

/** DynamoDB's item size limit. */
export const MAX_ITEM_BYTES = 400 * 1024;
const MAX_KEY_BYTES = 1024;

/**
 * Builds commits from new events (validated, encoded with the latest schema of their type)
 * and turns stored commits back into envelopes (decoded and upcast to the latest version).
 */
export class CommitCodec {
  constructor(
    readonly registry: SchemaRegistry,
    private readonly now: () => Date = () => new Date(),
  ) {}

  build(aggregateId: string, expectedVersion: number, events: readonly NewEvent[]): Commit {
    checkAppend(aggregateId, expectedVersion, events);
    const committedAt = this.now().toISOString();
    const stored = events.map((event, i): StoredEvent => {
      const encoded = this.registry.encode(event.event_type, event.data);
      const timestamp = event.timestamp ?? committedAt;
      if (Number.isNaN(Date.parse(timestamp))) {
        throw new StoreError(
          'INVALID_APPEND',
          `event ${i + 1} of the append has a timestamp that is not ISO-8601`,
          { aggregateId, sequence: expectedVersion + i + 1 },
        );
      }
      return {
        event_id: event.event_id ?? randomUUID(),
        event_type: event.event_type,
        version: encoded.version,
        fingerprint: encoded.fingerprint,
        data: encoded.bytes,
        timestamp: new Date(timestamp).toISOString(),
        correlation_id: event.correlation_id ?? randomUUID(),
        causation_id: event.causation_id ?? null,
      };
    });
    const ids = new Set(stored.map((e) => e.event_id));
    if (ids.size !== stored.length) {
      throw new StoreError('INVALID_APPEND', 'an append cannot carry the same event id twice', {
        aggregateId,
      });
    }
    const commit: Commit = {
      aggregate_id: aggregateId,
      sequence: expectedVersion + 1,
      last_sequence: expectedVersion + stored.length,
      committed_at: committedAt,
      events: stored,
    };
    const size = itemSize(commit);
    if (size > MAX_ITEM_BYTES) {
      throw new StoreError(
        'ITEM_TOO_LARGE',
        `the append to ${aggregateId} at sequence ${commit.sequence} takes ${size} bytes; DynamoDB items hold at most ${MAX_ITEM_BYTES}`,
        { aggregateId, sequence: commit.sequence },
      );
    }
    return commit;
  }

  /**
   * The answer to an append whose commit a stored one repeats (the same event ids, in order, at
   * its place: an append retried or made again), as every store gives it; undefined when
   * nothing is stored there or other events are.
   */
  repeated(commit: Commit, existing: Commit | undefined): AppendResult | undefined {
    if (
      !existing ||
      !sameEvents(
        existing,
        commit.events.map((e) => e.event_id),
      )
    )
      return undefined;
    return {
      aggregateId: commit.aggregate_id,
      version: existing.last_sequence,
      events: this.envelopes(existing),
      duplicate: true,
    };
  }

  /**
   * The commit's events as envelopes at the latest schema versions, optionally filtered. An
   * event that cannot be decoded throws, unless `unreadable` is given: then it is reported
   * there and skipped, with every later event of its stream.
   */
  envelopes(
    commit: Commit,
    keep?: (event: StoredEvent, sequence: number) => boolean,
    unreadable?: UnreadableEvents,
  ): EventEnvelope[] {
    const out: EventEnvelope[] = [];
    const { events } = commit;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as StoredEvent;
      const sequence = commit.sequence + i;
      if (keep && !keep(event, sequence)) {
        // Not for this reader, but the stream's consumers decode every event and stop at one
        // they cannot read: a scan that goes past unreadable events stops the stream there too
        // (without decoding the bytes, so corrupt data of a filtered type goes unnoticed).
        if (unreadable && unreadable.poisonOf(commit.aggregate_id) === undefined) {
          try {
            this.registry.checkReadable(event.event_type, event.fingerprint, event.event_id);
          } catch (error) {
            unreadable.unreadable({
              ...positionOf(commit, event, sequence),
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }
        continue;
      }
      if (unreadable?.poisonOf(commit.aggregate_id) !== undefined) {
        unreadable.heldBack(positionOf(commit, event, sequence));
        continue;
      }
      let decoded: DecodedData;
      try {
        decoded = this.registry.decode({
          eventType: event.event_type,
          fingerprint: event.fingerprint,
          bytes: event.data,
          eventId: event.event_id,
          aggregateId: commit.aggregate_id,
          timestamp: event.timestamp,
        });
      } catch (error) {
        if (!unreadable) throw error;
        unreadable.unreadable({
          ...positionOf(commit, event, sequence),
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      out.push(
        typed({
          event_id: event.event_id,
          event_type: event.event_type,
          aggregate_id: commit.aggregate_id,
          sequence,
          timestamp: event.timestamp,
          data: decoded.data,
          version: decoded.version,
          correlation_id: event.correlation_id,
          causation_id: event.causation_id,
        }),
      );
    }
    return out;
  }
}

/** The fields of an envelope whatever its type, with its data as decoded. */
interface DecodedEnvelope {
  readonly event_id: string;
  readonly event_type: string;
  readonly aggregate_id: string;
  readonly sequence: number;
  readonly timestamp: string;
  readonly data: unknown;
  readonly version: number;
  readonly correlation_id: string;
  readonly causation_id: string | null;
}

/**
 * The one place data becomes typed: the registry decoded it at the latest version of its type,
 * with the very schema file the type of that data is generated from (`npm run schemas:types`).
 */
function typed(envelope: DecodedEnvelope): EventEnvelope {
  return envelope as EventEnvelope;
}

/** An envelope as a bus delivers it: `replayed` when it comes from a replay. */
export type DeliveredEnvelope = EventEnvelope & { readonly replayed?: true };

/**
 * An envelope that travelled as JSON (a bus event's `detail`: on AWS it went through
 * EventBridge), typed again the way stored events are: its data is read through the schema of
 * the version it names and brought to the latest version, so a handler gets today's data even
 * from a router a release behind. Undefined when there is no envelope; data its schema refuses,
 * an unknown type or version, or an envelope field of the wrong kind throw a `SchemaError`.
 */
export function envelopeFromJson(
  value: unknown,
  registry: SchemaRegistry,
): DeliveredEnvelope | undefined {
  if (value === undefined || value === null) return undefined;
  const { replayed, ...e } = envelopeFields(value);
  const written = registry.encode(e.event_type, e.data, e.version);
  const decoded = registry.decode({
    eventType: e.event_type,
    fingerprint: written.fingerprint,
    bytes: written.bytes,
    eventId: e.event_id,
    aggregateId: e.aggregate_id,
    timestamp: e.timestamp,
  });
  const envelope = typed({ ...e, data: decoded.data, version: decoded.version });
  return replayed === true ? { ...envelope, replayed: true } : envelope;
}

/** The envelope fields of a JSON value, each of the kind it must be. */
function envelopeFields(value: unknown): DecodedEnvelope & { readonly replayed?: unknown } {
  const refuse = (what: string) =>
    new SchemaError('INVALID_DATA', `not an event envelope: ${what}`);
  if (typeof value !== 'object' || Array.isArray(value)) throw refuse('not an object');
  const e = value as Partial<Record<keyof DecodedEnvelope | 'replayed', unknown>>;
  const text = (field: keyof DecodedEnvelope): string => {
    const v = e[field];
    if (typeof v !== 'string') throw refuse(`${field} is not a string`);
    return v;
  };
  const whole = (field: keyof DecodedEnvelope): number => {
    const v = e[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
      throw refuse(`${field} is not a whole number from 1`);
    return v;
  };
  const causation = e.causation_id ?? null;
  if (causation !== null && typeof causation !== 'string')
    throw refuse('causation_id is neither a string nor null');
  return {
    event_id: text('event_id'),
    event_type: text('event_type'),
    aggregate_id: text('aggregate_id'),
    sequence: whole('sequence'),
    timestamp: text('timestamp'),
    data: e.data,
    version: whole('version'),
    correlation_id: text('correlation_id'),
    causation_id: causation,
    replayed: e.replayed,
  };
}

/** Where an event is in the store, for reports of unreadable ones. */
function positionOf(commit: Commit, event: StoredEvent, sequence: number) {
  return {
    aggregate_id: commit.aggregate_id,
    sequence,
    event_id: event.event_id,
    event_type: event.event_type,
  };
}

/** True when a stored commit holds exactly these event ids, in order: a retried append. */
export function sameEvents(commit: Commit, eventIds: readonly string[]): boolean {
  return (
    commit.events.length === eventIds.length &&
    commit.events.every((e, i) => e.event_id === eventIds[i])
  );
}

function checkAppend(
  aggregateId: string,
  expectedVersion: number,
  events: readonly NewEvent[],
): void {
  if (aggregateId === '' || Buffer.byteLength(aggregateId) > MAX_KEY_BYTES) {
    throw new StoreError(
      'INVALID_APPEND',
      `an aggregate id must have 1 to ${MAX_KEY_BYTES} bytes, got ${Buffer.byteLength(aggregateId)}`,
    );
  }
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new StoreError(
      'INVALID_APPEND',
      `expected version must be a whole number from 0, got ${expectedVersion}`,
      { aggregateId },
    );
  }
  if (events.length === 0) {
    throw new StoreError('INVALID_APPEND', 'an append needs at least one event', { aggregateId });
  }
}

/** The size of an event's `data` attribute (and its `encoding`, when gzipped). */
function dataSize(data: Uint8Array): number {
  const stored = storedData(data);
  const encoding = stored.encoding
    ? Buffer.byteLength('encoding') + Buffer.byteLength(stored.encoding) + 1
    : 0;
  return Buffer.byteLength('data') + stored.bytes.byteLength + encoding;
}

/**
 * The size DynamoDB counts for the commit's item: attribute names and values in UTF-8,
 * numbers at about a byte per two digits plus one, binary as is, and 3 bytes per list or map
 * plus 1 per element.
 */
export function itemSize(commit: Commit): number {
  const str = (name: string, value: string) => Buffer.byteLength(name) + Buffer.byteLength(value);
  const num = (name: string, value: number) =>
    Buffer.byteLength(name) +
    Math.ceil(String(Math.abs(value)).replace(/^0+|\.|0+$/g, '').length / 2) +
    1;
  let size =
    str('aggregate_id', commit.aggregate_id) +
    num('sequence', commit.sequence) +
    num('last_sequence', commit.last_sequence) +
    str('committed_at', commit.committed_at) +
    Buffer.byteLength('events') +
    3;
  for (const e of commit.events) {
    size +=
      1 +
      3 +
      str('event_id', e.event_id) +
      str('event_type', e.event_type) +
      num('version', e.version) +
      Buffer.byteLength('fingerprint') +
      e.fingerprint.length / 2 +
      dataSize(e.data) +
      str('timestamp', e.timestamp) +
      str('correlation_id', e.correlation_id) +
      (e.causation_id === null
        ? Buffer.byteLength('causation_id') + 1
        : str('causation_id', e.causation_id)) +
      7; // one byte per map element
  }
  return size;
}
