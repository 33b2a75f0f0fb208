import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { itemFromJson, itemToJson, type JsonItem } from './attributeJson.js';

/**
 * One item change as Kinesis Data Streams for DynamoDB writes it into the stream: JSON, the
 * item in DynamoDB JSON (binary as base64), the creation time at microsecond precision (the
 * default of that feature).
 */
export interface ChangeRecord {
  readonly awsRegion: string;
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly userIdentity: null | { readonly principalId: string; readonly type: string };
  readonly recordFormat: 'application/json';
  readonly tableName: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime?: number;
    readonly ApproximateCreationDateTimePrecision?: 'MICROSECOND' | 'MILLISECOND';
    readonly Keys: JsonItem;
    readonly NewImage?: JsonItem;
    readonly OldImage?: JsonItem;
    readonly SizeBytes: number;
  };
  readonly eventSource: 'aws:dynamodb';
}

/** What a change record is made of: the item, its key attributes, where and when. */
interface ChangeOf {
  readonly item: Record<string, AttributeValue>;
  readonly keys: readonly string[];
  readonly tableName: string;
  readonly region: string;
  readonly eventId: string;
  readonly sizeBytes: number;
}

/** A change record of an item: INSERT with its new image, REMOVE with its old one. */
function changeRecord(
  eventName: 'INSERT' | 'REMOVE',
  options: ChangeOf,
  atMs: number,
): ChangeRecord {
  const image = itemToJson(options.item);
  const keys: Record<string, JsonItem[string]> = {};
  for (const k of options.keys) {
    const value = image[k];
    if (value) keys[k] = value;
  }
  return {
    awsRegion: options.region,
    eventID: options.eventId,
    eventName,
    userIdentity: null,
    recordFormat: 'application/json',
    tableName: options.tableName,
    dynamodb: {
      ApproximateCreationDateTime: atMs * 1000,
      ApproximateCreationDateTimePrecision: 'MICROSECOND',
      Keys: keys,
      ...(eventName === 'INSERT' ? { NewImage: image } : { OldImage: image }),
      SizeBytes: options.sizeBytes,
    },
    eventSource: 'aws:dynamodb',
  };
}

/** The INSERT record of a new item, as AWS would deliver it. */
export function insertRecord(options: ChangeOf & { readonly createdAtMs: number }): ChangeRecord {
  return changeRecord('INSERT', options, options.createdAtMs);
}

/** The REMOVE record of a deleted item (its keys and old image), as AWS would deliver it. */
export function removeRecord(options: ChangeOf & { readonly removedAtMs: number }): ChangeRecord {
  return changeRecord('REMOVE', options, options.removedAtMs);
}

/**
 * A Lambda filter pattern (Kinesis mappings filter on the record's `data`) for the change
 * records of the events table whose stream id starts with `prefix`: their `dynamodb.Keys`
 * hold the stream's `aggregate_id`, whatever the change (INSERT, or REMOVE when an item
 * expires). One pattern serves a deployed mapping's `FilterCriteria` and the local mapping.
 */
export function changesOfStreamsStartingWith(prefix: string): {
  readonly data: { readonly dynamodb: { readonly Keys: object } };
} {
  return { data: { dynamodb: { Keys: { aggregate_id: { S: [{ prefix }] } } } } };
}

/**
 * Parses the data of a Kinesis record as a change record, checking the parts this project
 * relies on; throws a TypeError saying what is wrong (never echoing the payload).
 */
export function parseChangeRecord(data: Uint8Array | string): ChangeRecord {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : utf8(data));
  } catch {
    throw new TypeError('the record data is not JSON');
  }
  if (typeof json !== 'object' || json === null)
    throw new TypeError('the record data is not a JSON object');
  const record = json as Partial<ChangeRecord>;
  if (record.eventSource !== 'aws:dynamodb') throw new TypeError('eventSource is not aws:dynamodb');
  if (
    record.eventName !== 'INSERT' &&
    record.eventName !== 'MODIFY' &&
    record.eventName !== 'REMOVE'
  ) {
    throw new TypeError('eventName is not INSERT, MODIFY or REMOVE');
  }
  if (
    typeof record.dynamodb !== 'object' ||
    record.dynamodb === null ||
    typeof record.dynamodb.Keys !== 'object'
  ) {
    throw new TypeError('dynamodb.Keys is missing');
  }
  if (record.eventName !== 'REMOVE' && typeof record.dynamodb.NewImage !== 'object') {
    throw new TypeError(`dynamodb.NewImage is missing from a ${record.eventName} record`);
  }
  return record as ChangeRecord;
}

/** Bytes as UTF-8 text, without copying them first. */
function utf8(data: Uint8Array): string {
  return (
    Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  ).toString('utf8');
}

/** The new image of a change as an item, or undefined for a removal. */
export function newImage(record: ChangeRecord): Record<string, AttributeValue> | undefined {
  return record.dynamodb.NewImage ? itemFromJson(record.dynamodb.NewImage, 'NewImage') : undefined;
}
