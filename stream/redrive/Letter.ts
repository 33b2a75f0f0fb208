import { createHash } from 'node:crypto';
import type { DeadLetter } from '../consumer/DeadLetterQueue.js';
import type { InvocationRecord } from '../consumer/invocationRecord.js';
import type { KinesisStreamRecord } from '../consumer/kinesisEvent.js';

/** Where a failure landed. */
export type LetterPlace =
  /** The dead-letter table (`DynamoDeadLetterQueue`), locally or deployed. */
  | 'dead-letter-table'
  /** A data folder's `failures/`: invocation records as Lambda's S3 destination writes them. */
  | 'failure-folder'
  /** The deployed on-failure bucket (stack output FailureBucket). */
  | 'failure-bucket'
  /** An SQS dead-letter queue on AWS: a bus handler's, or the saga sweep's. */
  | 'dead-letter-queue';

/** One copy of a letter in one place, and what is needed to remove or rewrite it there. */
export interface LetterCopy {
  readonly place: LetterPlace;
  /** For people: the table and key, the file, `s3://bucket/key`, the queue and message id. */
  readonly where: string;
  /** The place's own handle (a table key as JSON, an object key, a receipt handle). */
  readonly handle: string;
  /** What is kept there, as it is kept: rewritten when the letter fails again. */
  readonly kept: unknown;
}

/** What a letter holds: a stream record, a bus event, a PutEvents entry, an unreadable item. */
export type LetterKind = 'kinesis-records' | 'bus-event' | 'put-events-entry' | 'unreadable-item';

/**
 * A stored event a letter is about, as far as the letter tells: its stream, its first
 * sequence and (for a commit of several events) its last.
 */
export interface EventRef {
  readonly aggregate_id: string;
  readonly sequence: number;
  /** The commit's last sequence; the same as `sequence` for one event. */
  readonly last_sequence: number;
  readonly event_id?: string;
}

/**
 * A failure, wherever it landed, in one shape: who gave up, why, how many times, when, and
 * which stored events it is about. The same failure kept in two places (a local consumer's
 * letter and its invocation record in `failures/`) is one letter with two copies.
 */
export interface Letter {
  /** Stable while the letter exists: what `show` and `redrive --ids` take. */
  readonly id: string;
  /**
   * Who gave up: a consumer, `bus:<bus>/<rule>` (on AWS, a handler's queue: `bus:<rule>`),
   * `publish:<bus>`, `rebuild:<read model>`, or the role of a queue the stack lists (`saga-sweep`).
   */
  readonly consumer: string;
  readonly kind: LetterKind;
  readonly error: string;
  readonly attempts: number;
  readonly failed_at: string;
  /** The stored events it is about; empty when the letter does not say (see `unknown`). */
  readonly events: readonly EventRef[];
  /** Why the letter's events cannot be told, when they cannot. */
  readonly unknown?: string;
  readonly copies: readonly LetterCopy[];
  /** The bus event (`bus-event`) or PutEvents entry, as kept: a redrive keeps its event id. */
  readonly event?: unknown;
  /** What was kept, whole, for `show`. */
  readonly body: unknown;
}

/** A letter's id: 12 hex digits of a hash of what identifies the failure, wherever it is kept. */
export function letterId(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12);
}

/**
 * The stored event a Kinesis record of the change stream is about, read from the change
 * record's keys (and the new image's `last_sequence`), which stay readable when the rest of the
 * item is not. Undefined when the record is not a change record at all.
 */
export function eventRefOfRecord(record: KinesisStreamRecord): EventRef | undefined {
  let change: unknown;
  try {
    change = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const dynamodb = isObject(change) && isObject(change.dynamodb) ? change.dynamodb : undefined;
  const keys = dynamodb && isObject(dynamodb.Keys) ? dynamodb.Keys : undefined;
  const aggregateId = keys && stringAttribute(keys.aggregate_id);
  const sequence = keys && numberAttribute(keys.sequence);
  if (aggregateId === undefined || sequence === undefined) return undefined;
  const image = isObject(dynamodb?.NewImage) ? dynamodb.NewImage : undefined;
  const last = image && numberAttribute(image.last_sequence);
  return {
    aggregate_id: aggregateId,
    sequence,
    last_sequence: last !== undefined && last >= sequence ? last : sequence,
  };
}

/**
 * Each stored event a Kinesis record of the change stream is about, with the day of its
 * timestamp when the change record's new image says it (its envelope's `timestamp`, which
 * stays readable when the event's data does not). Empty when the record is not a change record.
 */
export function eventDaysOfRecord(
  record: KinesisStreamRecord,
): { readonly aggregate_id: string; readonly sequence: number; readonly day?: string }[] {
  const ref = eventRefOfRecord(record);
  if (ref === undefined) return [];
  let events: unknown;
  try {
    const change = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    events = change?.dynamodb?.NewImage?.events?.L;
  } catch {
    events = undefined;
  }
  return Array.from({ length: ref.last_sequence - ref.sequence + 1 }, (_, i) => {
    const event = Array.isArray(events) ? (events[i] as unknown) : undefined;
    const timestamp =
      isObject(event) && isObject(event.M) ? stringAttribute(event.M.timestamp) : undefined;
    return {
      aggregate_id: ref.aggregate_id,
      sequence: ref.sequence + i,
      ...(timestamp !== undefined && /^\d{4}-\d{2}-\d{2}/.test(timestamp)
        ? { day: timestamp.slice(0, 10) }
        : {}),
    };
  });
}

/**
 * The stored event an envelope names (a bus event's `detail`, a PutEvents entry's `Detail`, a
 * claim check included): its `aggregate_id` and `sequence`.
 */
export function eventRefOfEnvelope(envelope: unknown): EventRef | undefined {
  if (!isObject(envelope)) return undefined;
  const { aggregate_id: aggregateId, sequence, event_id: eventId } = envelope;
  if (typeof aggregateId !== 'string' || typeof sequence !== 'number') return undefined;
  return {
    aggregate_id: aggregateId,
    sequence,
    last_sequence: sequence,
    ...(typeof eventId === 'string' ? { event_id: eventId } : {}),
  };
}

/** The envelope in a PutEvents entry's `Detail` (JSON text), or undefined. */
export function envelopeOfEntry(entry: unknown): unknown {
  if (!isObject(entry) || typeof entry.Detail !== 'string') return undefined;
  try {
    return JSON.parse(entry.Detail) as unknown;
  } catch {
    return undefined;
  }
}

/** A letter of the dead-letter table as one shape; `where` says where it is kept. */
export function letterOfDeadLetter(
  dead: DeadLetter,
  copy: Omit<LetterCopy, 'place' | 'kept'>,
): Letter {
  const base = {
    consumer: dead.consumer,
    error: dead.error,
    attempts: dead.attempts,
    failed_at: dead.failed_at,
    copies: [{ place: 'dead-letter-table' as const, ...copy, kept: dead }],
    body: dead,
  };
  if (dead.record) {
    const ref = eventRefOfRecord(dead.record);
    return {
      ...base,
      // As the invocation record of the same failure is identified (see letterOfInvocation).
      id: letterId('kinesis', dead.consumer, dead.record.kinesis.sequenceNumber, dead.failed_at),
      kind: 'kinesis-records',
      events: ref ? [ref] : [],
      ...(ref ? {} : { unknown: 'the record is not a change record of the events table' }),
    };
  }
  const event = dead.event;
  if (dead.consumer.startsWith('publish:')) {
    const ref = eventRefOfEnvelope(envelopeOfEntry(event));
    return {
      ...base,
      id: letterId('entry', dead.consumer, ref?.event_id ?? JSON.stringify(event), dead.failed_at),
      kind: 'put-events-entry',
      event,
      events: ref ? [ref] : [],
      ...(ref ? {} : { unknown: 'the entry names no stored event' }),
    };
  }
  if (dead.consumer.startsWith('bus:')) {
    const busEventId = isObject(event) && typeof event.id === 'string' ? event.id : undefined;
    const ref = eventRefOfEnvelope(isObject(event) ? event.detail : undefined);
    return {
      ...base,
      id: letterId('bus', dead.consumer, busEventId ?? JSON.stringify(event), dead.failed_at),
      kind: 'bus-event',
      event,
      events: ref ? [ref] : [],
      ...(ref ? {} : { unknown: 'the bus event names no stored event' }),
    };
  }
  // A rebuild's unreadable item: the stream and sequence of what it skipped.
  const ref = eventRefOfEnvelope(event);
  return {
    ...base,
    id: letterId(
      'item',
      dead.consumer,
      ref ? `${ref.aggregate_id}/${ref.sequence}` : JSON.stringify(event),
      dead.failed_at,
    ),
    kind: 'unreadable-item',
    events: ref ? [ref] : [],
    ...(ref ? {} : { unknown: 'the letter names no stored event' }),
  };
}

/**
 * An invocation record (as Lambda's on-failure destination writes it) as a letter. `consumer`
 * is who gave up, when known (a deployed function's `CONSUMER`); else the function's name.
 * Without its payload (an SQS destination's), only the stream's shard and sequence range are
 * left: the letter's events are then unknown until the stream is read, see `unknown`.
 */
export function letterOfInvocation(
  record: InvocationRecord,
  copy: Omit<LetterCopy, 'kept'>,
  consumer = functionName(record.requestContext.functionArn),
): Letter {
  const batch = record.KinesisBatchInfo;
  const redriven = redriveNote(record);
  let records: KinesisStreamRecord[] | undefined;
  let unknown: string | undefined;
  try {
    const payload = record.payload as unknown;
    if (payload === undefined || payload === null) {
      unknown = `the invocation record holds no payload, only shard ${batch.shardId} sequence ${batch.startSequenceNumber} to ${batch.endSequenceNumber}`;
    } else {
      const event = (typeof payload === 'string' ? JSON.parse(payload) : payload) as {
        Records?: unknown;
      };
      if (!Array.isArray(event.Records)) unknown = 'the payload is not a Kinesis event';
      else records = event.Records as KinesisStreamRecord[];
    }
  } catch {
    unknown = 'the payload is not JSON';
  }
  const refs = (records ?? []).map(eventRefOfRecord);
  if (records && refs.some((r) => r === undefined))
    unknown = 'a record of the payload is not a change record of the events table';
  return {
    // The same id as the dead-letter table's letter of the same failure (one record, locally).
    id: letterId('kinesis', consumer, batch.startSequenceNumber, record.timestamp),
    consumer,
    kind: 'kinesis-records',
    error:
      redriven?.error ??
      `${record.requestContext.condition} (${record.responseContext.functionError})`,
    attempts: redriven?.attempts ?? record.requestContext.approximateInvokeCount,
    failed_at: record.timestamp,
    events: unknown ? [] : (refs as EventRef[]),
    ...(unknown ? { unknown } : {}),
    copies: [{ ...copy, kept: record }],
    body: record,
  };
}

/**
 * What a redrive that failed adds to an invocation record it rewrites: Lambda's format has no
 * reason, and its count is Lambda's; these say what the last redrive met.
 */
export interface RedriveNote {
  readonly error: string;
  readonly attempts: number;
  readonly redriven_at: string;
}

/** The note of the last failed redrive an invocation record carries, if any. */
export function redriveNote(record: InvocationRecord): RedriveNote | undefined {
  const note = (record as { redrive?: unknown }).redrive;
  if (
    isObject(note) &&
    typeof note.error === 'string' &&
    typeof note.attempts === 'number' &&
    typeof note.redriven_at === 'string'
  )
    return { error: note.error, attempts: note.attempts, redriven_at: note.redriven_at };
  return undefined;
}

/**
 * The function's name in its ARN (`arn:aws:lambda:region:account:function:NAME[:qualifier]`).
 * See `localConsumerOf` for the embedded runtime's ARNs.
 */
export function functionName(arn: string): string {
  const parts = arn.split(':');
  const at = parts.indexOf('function');
  return at >= 0 && parts[at + 1] ? (parts[at + 1] as string) : arn;
}

/**
 * The consumer an embedded mapping names in the ARN of its invocation records: all after
 * `function:` (a generation's consumer, `read-model:<read model>:g<N>`, has colons).
 */
export function localConsumerOf(arn: string): string {
  const at = arn.indexOf(':function:');
  return at >= 0 ? arn.slice(at + ':function:'.length) : arn;
}

/**
 * The letters of every place as one list: copies of the same failure (same id) joined into
 * one letter, the dead-letter table's reading first (it has the reason); newest first.
 */
export function joinLetters(letters: readonly Letter[]): Letter[] {
  const byId = new Map<string, Letter>();
  for (const letter of letters) {
    const seen = byId.get(letter.id);
    if (!seen) {
      byId.set(letter.id, letter);
      continue;
    }
    const [first, second] =
      seen.copies[0]?.place === 'dead-letter-table' ? [seen, letter] : [letter, seen];
    byId.set(letter.id, { ...first, copies: [...first.copies, ...second.copies] });
  }
  return [...byId.values()].sort(
    (a, b) => b.failed_at.localeCompare(a.failed_at) || a.id.localeCompare(b.id),
  );
}

/** Which letters a command takes. */
export interface LetterFilter {
  readonly consumer?: string;
  /** ISO time: letters that failed at or after it. */
  readonly since?: string;
  readonly ids?: readonly string[];
}

/** The letters the filter takes (every letter for an empty filter). */
export function filterLetters(letters: readonly Letter[], filter: LetterFilter): Letter[] {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  const ids = filter.ids ? new Set(filter.ids) : undefined;
  return letters.filter(
    (l) =>
      (filter.consumer === undefined || l.consumer === filter.consumer) &&
      (since === undefined || Date.parse(l.failed_at) >= since) &&
      (ids === undefined || ids.has(l.id)),
  );
}

/** A letter's events for people: `match:a/3`, `match:a/3-5`. */
export function describeEvents(letter: Letter): string {
  if (letter.events.length === 0) return letter.unknown ?? '?';
  return letter.events
    .map(
      (e) =>
        `${e.aggregate_id}/${e.sequence}${e.last_sequence > e.sequence ? `-${e.last_sequence}` : ''}`,
    )
    .join(', ');
}

function stringAttribute(value: unknown): string | undefined {
  return isObject(value) && typeof value.S === 'string' ? value.S : undefined;
}

function numberAttribute(value: unknown): number | undefined {
  if (!isObject(value) || typeof value.N !== 'string') return undefined;
  const n = Number(value.N);
  return Number.isSafeInteger(n) ? n : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
