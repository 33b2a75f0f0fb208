import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { StoreError } from '../StoreError.js';
import type { Commit, StoredEvent } from './Commit.js';
import { avroData, storedData } from './storedData.js';

type Item = Record<string, AttributeValue>;

/**
 * A commit as a DynamoDB item (the fingerprint as 32 raw bytes, the data as Avro binary, or
 * gzipped with `encoding: "gzip"` from `GZIP_FROM_BYTES`).
 *
 * Written by hand, not with util-dynamodb's `marshall`: `marshall` takes 3–12 times as long on
 * the same item (`bench/marshal.ts`, commit-item-write: 2.7–6.3 µs more), which the local
 * relay pays twice per commit, 2–4 % of what it spends on one (380–500 µs at 2,000–2,650
 * commits/s): over the 2 % the benchmarks can show (bench/README.md, "Marshalling").
 */
export function toItem(commit: Commit): Item {
  return {
    aggregate_id: { S: commit.aggregate_id },
    sequence: { N: String(commit.sequence) },
    last_sequence: { N: String(commit.last_sequence) },
    committed_at: { S: commit.committed_at },
    events: {
      L: commit.events.map((e) => {
        const data = storedData(e.data);
        return {
          M: {
            event_id: { S: e.event_id },
            event_type: { S: e.event_type },
            version: { N: String(e.version) },
            fingerprint: { B: Buffer.from(e.fingerprint, 'hex') },
            data: { B: data.bytes },
            ...(data.encoding ? { encoding: { S: data.encoding } } : {}),
            timestamp: { S: e.timestamp },
            correlation_id: { S: e.correlation_id },
            causation_id: e.causation_id === null ? { NULL: true } : { S: e.causation_id },
          },
        };
      }),
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
 * Fingerprints in base64 (as change records carry them) by their hex form. A store holds a
 * fingerprint per schema version, so this stays small; past `MAX_FINGERPRINTS` (a stream of
 * damaged records) new ones are converted each time instead of remembered.
 */
const hexByBase64 = new Map<string, string>();
const MAX_FINGERPRINTS = 1024;

/** A fingerprint as hex, from its bytes or their base64. */
function hexOf(value: Uint8Array | string): string {
  if (typeof value !== 'string')
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  const known = hexByBase64.get(value);
  if (known !== undefined) return known;
  const hex = Buffer.from(value, 'base64').toString('hex');
  if (hexByBase64.size < MAX_FINGERPRINTS) hexByBase64.set(value, hex);
  return hex;
}

/**
 * A stored item (from the SDK, or the DynamoDB JSON of a change record) back as a commit; a
 * malformed item is a `CORRUPT_ITEM` error naming its key.
 *
 * Read by hand, not with util-dynamodb's `unmarshall`: every consumer reads every record
 * through here, and `unmarshall` with the same checks takes 1.4–1.9 times as long on a change
 * record's image (`bench/marshal.ts`, change-image-read: 1.0–1.4 µs more, 10–14 % of the
 * 10 µs a consumer spends on a record at 100,000 events/s) and 2–4 times as long on a scanned
 * item (commit-item-read: 1.4–1.6 µs more, 4–5 % of an item of a decoding scan at 29,000/s).
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
    const fingerprint = m?.fingerprint?.B;
    const stored = bytes(m?.data?.B);
    let data: Uint8Array | undefined;
    try {
      data = stored && avroData(stored, m?.encoding?.S);
    } catch (error) {
      throw corrupt(`event ${i + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
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
      fingerprint: hexOf(fingerprint),
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
