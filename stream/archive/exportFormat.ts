import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { StoreError } from '../StoreError.js';

/**
 * The layout and manifests of a DynamoDB export to S3 in the DYNAMODB_JSON format (Developer
 * Guide, "DynamoDB table export output format"), which the archive keeps on S3 as DynamoDB
 * writes it and in a folder of the data directory as the local export writes it:
 *
 * ```
 * <prefix>/AWSDynamoDB/<export id>/manifest-summary.json   the export: times, counts, files
 * <prefix>/AWSDynamoDB/<export id>/manifest-files.json     one JSON object a line per data file
 * <prefix>/AWSDynamoDB/<export id>/data/<name>.json.gz     gzip, one item a line
 * ```
 *
 * A full export's data line is `{"Item": <item in DynamoDB JSON>}`; an incremental export's is
 * `{"Metadata": {"WriteTime": µs}, "Keys": ..., "NewImage": ..., "OldImage": ...}`. Binary
 * values are base64 text, as in every DynamoDB JSON.
 */

/** The manifest format version DynamoDB writes. */
export const MANIFEST_VERSION = '2020-06-30';
/** The archive's prefix, in the bucket on AWS and in the data folder's archive alike. */
export const ARCHIVE_PREFIX = 'events';
/** The folder DynamoDB puts each export in, under the prefix. */
export const EXPORTS_FOLDER = 'AWSDynamoDB';

export type ExportType = 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';

/** `manifest-summary.json`: what one export holds. Fields as DynamoDB writes them. */
export interface ManifestSummary {
  readonly version: string;
  readonly exportArn: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly tableArn: string;
  readonly tableId: string;
  /** A full export: the instant the table is exported as of. */
  readonly exportTime?: string;
  /** An incremental export: the changes after `exportFromTime`, up to `exportToTime`. */
  readonly exportFromTime?: string;
  readonly exportToTime?: string;
  readonly s3Bucket: string;
  readonly s3Prefix: string | null;
  readonly s3SseAlgorithm: string | null;
  readonly s3SseKmsKeyId: string | null;
  readonly manifestFilesS3Key: string;
  readonly billedSizeBytes: number;
  readonly itemCount: number;
  readonly outputFormat: 'DYNAMODB_JSON';
  readonly exportType?: ExportType;
  readonly outputView?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

/** One line of `manifest-files.json`: a data file and how many items it holds. */
export interface ManifestFile {
  readonly itemCount: number;
  /** Base64 MD5 of the file's bytes (as S3's Content-MD5). */
  readonly md5Checksum: string;
  readonly etag: string;
  readonly dataFileS3Key: string;
}

/** An item in DynamoDB JSON: binary as base64 text. */
export type JsonItem = Record<string, JsonValue>;
export interface JsonValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: string;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly string[];
  readonly L?: readonly JsonValue[];
  readonly M?: Readonly<Record<string, JsonValue>>;
}

/** An item as the SDK reads it (binary as bytes) in DynamoDB JSON. */
export function jsonItem(item: Readonly<Record<string, AttributeValue>>): JsonItem {
  const out: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(item)) out[name] = jsonValue(value);
  return out;
}

function jsonValue(value: AttributeValue): JsonValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(jsonValue) };
  if (value.M !== undefined) return { M: jsonItem(value.M) };
  return value as JsonValue;
}

/** The folder of one export, under the archive's prefix. */
export function exportFolder(prefix: string, exportId: string): string {
  return `${prefix ? `${prefix}/` : ''}${EXPORTS_FOLDER}/${exportId}`;
}

/** The export id is the last part of its ARN (`.../export/01234567890123-a1b2c3d4`). */
export function exportIdOf(exportArn: string): string {
  return exportArn.slice(exportArn.lastIndexOf('/') + 1);
}

/** A line of a full export's data file. */
export function itemLine(item: JsonItem): string {
  return JSON.stringify({ Item: item });
}

/**
 * A line of an incremental export's data file, for an item written (new image) at `writeTime`
 * (ms since the epoch; the file holds microseconds).
 */
export function changeLine(keys: JsonItem, image: JsonItem, writeTimeMs: number): string {
  return JSON.stringify({
    Metadata: { WriteTime: writeTimeMs * 1000 },
    Keys: keys,
    NewImage: image,
  });
}

/**
 * The item of a data line: a full export's `Item`, an incremental export's `NewImage`; null
 * for an incremental line without one (a deletion). A line that is neither is refused with
 * where it is.
 */
export function lineItem(line: string, where: string): JsonItem | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new StoreError('CORRUPT_ARCHIVE', `${where}: not JSON`);
  }
  if (isObject(parsed)) {
    if (isObject(parsed.Item)) return parsed.Item as JsonItem;
    if (isObject(parsed.Keys))
      return isObject(parsed.NewImage) ? (parsed.NewImage as JsonItem) : null;
  }
  throw new StoreError('CORRUPT_ARCHIVE', `${where}: neither an "Item" nor a change with "Keys"`);
}

/** `manifest-summary.json` checked field by field; `where` names it in errors. */
export function parseSummary(text: string, where: string): ManifestSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StoreError('CORRUPT_ARCHIVE', `${where}: not JSON`);
  }
  if (!isObject(parsed)) throw new StoreError('CORRUPT_ARCHIVE', `${where}: not a JSON object`);
  for (const field of ['exportArn', 'manifestFilesS3Key', 'startTime'] as const)
    if (typeof parsed[field] !== 'string')
      throw new StoreError('CORRUPT_ARCHIVE', `${where}: "${field}" is missing`);
  if (typeof parsed.itemCount !== 'number')
    throw new StoreError('CORRUPT_ARCHIVE', `${where}: "itemCount" is missing`);
  if (parsed.outputFormat !== 'DYNAMODB_JSON')
    throw new StoreError(
      'CORRUPT_ARCHIVE',
      `${where}: output format ${String(parsed.outputFormat)}; the archive reads DYNAMODB_JSON`,
    );
  return parsed as unknown as ManifestSummary;
}

/** `manifest-files.json` (a JSON object a line) checked line by line. */
export function parseFiles(text: string, where: string): ManifestFile[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new StoreError('CORRUPT_ARCHIVE', `${where} line ${i + 1}: not JSON`);
      }
      if (
        !isObject(parsed) ||
        typeof parsed.dataFileS3Key !== 'string' ||
        typeof parsed.itemCount !== 'number'
      )
        throw new StoreError(
          'CORRUPT_ARCHIVE',
          `${where} line ${i + 1}: needs "dataFileS3Key" and "itemCount"`,
        );
      return parsed as unknown as ManifestFile;
    });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
