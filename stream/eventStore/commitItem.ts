import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { StoreError } from '../StoreError.js';
import type { Commit, StoredEvent } from './Commit.js';

type Item = Record<string, AttributeValue>;

/** A commit as a DynamoDB item (the fingerprint as 32 raw bytes, the data as Avro binary). */
export function toItem(commit: Commit): Item {
  return {
    aggregate_id: { S: commit.aggregate_id },
    sequence: { N: String(commit.sequence) },
    last_sequence: { N: String(commit.last_sequence) },
    committed_at: { S: commit.committed_at },
    events: {
      L: commit.events.map((e) => ({
        M: {
          event_id: { S: e.event_id },
          event_type: { S: e.event_type },
          version: { N: String(e.version) },
          fingerprint: { B: Buffer.from(e.fingerprint, 'hex') },
          data: { B: e.data },
          timestamp: { S: e.timestamp },
          correlation_id: { S: e.correlation_id },
          causation_id: e.causation_id === null ? { NULL: true } : { S: e.causation_id },
        },
      })),
    },
  };
}

/**
 * An attribute value as the SDK returns it (binary as bytes) or as change records carry it
 * in DynamoDB JSON (binary as base64 text): `fromItem` reads both.
 */
interface AnyValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: Uint8Array | string;
  readonly NULL?: boolean;
  readonly BOOL?: boolean;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly (Uint8Array | string)[];
  readonly L?: readonly AnyValue[];
  readonly M?: Readonly<Record<string, AnyValue>>;
}

function bytes(value: Uint8Array | string | undefined): Uint8Array | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
}

/**
 * A stored item (from the SDK, or the DynamoDB JSON of a change record) back as a commit; a
 * malformed item is a `CORRUPT_ITEM` error naming its key.
 */
export function fromItem(item: Readonly<Record<string, AnyValue>>, table: string): Commit {
  const aggregateId = item.aggregate_id?.S;
  const sequence = Number(item.sequence?.N);
  const corrupt = (what: string) =>
    new StoreError(
      'CORRUPT_ITEM',
      `item ${aggregateId ?? '?'}/${item.sequence?.N ?? '?'} of ${table}: ${what}`,
      {
        table,
        ...(aggregateId ? { aggregateId } : {}),
        ...(Number.isSafeInteger(sequence) ? { sequence } : {}),
      },
    );
  if (aggregateId === undefined || !Number.isSafeInteger(sequence))
    throw corrupt('no aggregate_id or sequence');
  const list = item.events?.L;
  if (!list || list.length === 0) throw corrupt('no events');
  const events = list.map((value, i): StoredEvent => {
    const m = value.M;
    const fingerprint = bytes(m?.fingerprint?.B);
    const data = bytes(m?.data?.B);
    const eventId = m?.event_id?.S;
    const eventType = m?.event_type?.S;
    const timestamp = m?.timestamp?.S;
    const version = Number(m?.version?.N);
    if (
      !m ||
      !fingerprint ||
      !data ||
      !eventId ||
      !eventType ||
      !timestamp ||
      !Number.isSafeInteger(version)
    ) {
      throw corrupt(`event ${i + 1} is missing a field`);
    }
    return {
      event_id: eventId,
      event_type: eventType,
      version,
      fingerprint: Buffer.from(fingerprint).toString('hex'),
      data,
      timestamp,
      correlation_id: m.correlation_id?.S ?? '',
      causation_id: m.causation_id?.S ?? null,
    };
  });
  const last = Number(item.last_sequence?.N ?? sequence + events.length - 1);
  if (last !== sequence + events.length - 1)
    throw corrupt('last_sequence does not match its events');
  return {
    aggregate_id: aggregateId,
    sequence,
    last_sequence: last,
    committed_at: item.committed_at?.S ?? '',
    events,
  };
}
