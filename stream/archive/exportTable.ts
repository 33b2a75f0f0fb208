import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { FolderStorage } from './ArchiveStorage.js';
import {
  changeLine,
  exportFolder,
  itemLine,
  jsonItem,
  MANIFEST_VERSION,
  type ManifestFile,
  type ManifestSummary,
} from './exportFormat.js';

/**
 * How long after its `committed_at` an append may still land in the table (the SDK's retries
 * of a PutItem included). A local export is a scan, not a snapshot: an item committed at t
 * is surely in a scan that starts after t + this, so an export is dated that much before it
 * starts, and an incremental export covers `committed_at` in (from, to] with `to` as far back.
 */
export const APPEND_LANDS_WITHIN_MS = 60_000;

export interface LocalExportOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly storage: FolderStorage;
  /** The archive's prefix, as an S3 prefix (`events`). */
  readonly prefix: string;
  /** Parallel scan segments, one data file each (DynamoDB writes one a partition). @default 4 */
  readonly segments?: number;
  /** Only the commits of `committed_at` in (from, to]: an incremental export. */
  readonly incremental?: { readonly from: string };
  /** Items written so far, after each page. */
  readonly onProgress?: (items: number) => void;
  /**
   * Stops the scan at its next page (Ctrl-C): the export is left unfinished, without its
   * manifests, as one cut short any other way; the function rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
  /** The clock (tests). */
  readonly now?: () => number;
}

/**
 * Exports the events table into a folder in the layout and format of DynamoDB's export to S3
 * (`exportFormat.ts`): a parallel scan, one gzip data file per segment (every commit of a
 * stream in one file, as DynamoDB puts a partition's items in one), then `manifest-files.json`,
 * then `manifest-summary.json`, whose presence marks the export complete. A full export holds
 * every commit; an incremental one each commit of its window as a change with its new image.
 *
 * @example await exportTableLocally({ client, table, storage: new FolderStorage(dir), prefix: 'events' })
 */
export async function exportTableLocally(options: LocalExportOptions): Promise<ManifestSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const exportId = `${started}-${randomBytes(4).toString('hex')}`;
  const tableArn = `arn:aws:dynamodb:local:000000000000:table/${options.table}`;
  const folder = exportFolder(options.prefix, exportId);
  const asOf = started - APPEND_LANDS_WITHIN_MS;
  const from = options.incremental ? Date.parse(options.incremental.from) : undefined;
  if (from !== undefined && !(from < asOf))
    throw new Error(
      `an incremental export covers commits up to ${APPEND_LANDS_WITHIN_MS / 1000} s ago; nothing has been committed since ${options.incremental?.from} that is that old yet`,
    );
  await options.storage.write(`${folder}/_started`, '');

  let written = 0;
  let dataBytes = 0;
  const segments = Math.max(1, options.segments ?? 4);
  // Every segment settled before any failure is said: none goes on scanning a store that the
  // caller closes on it.
  const settled = await Promise.allSettled(
    Array.from({ length: segments }, async (_, segment): Promise<ManifestFile> => {
      const key = `${folder}/data/${randomBytes(13).toString('hex').slice(0, 26)}.json.gz`;
      let items = 0;
      const lines = async function* (this: void) {
        let start: Record<string, AttributeValue> | undefined;
        do {
          options.signal?.throwIfAborted();
          const page = await options.client.send(
            new ScanCommand({
              TableName: options.table,
              Segment: segment,
              TotalSegments: segments,
              ConsistentRead: true,
              ExclusiveStartKey: start,
            }),
          );
          start = page.LastEvaluatedKey;
          let text = '';
          let pageItems = 0;
          for (const item of page.Items ?? []) {
            const line = lineOf(item, from, asOf);
            if (line === undefined) continue;
            text += `${line}\n`;
            pageItems++;
          }
          if (pageItems > 0) {
            items += pageItems;
            written += pageItems;
            dataBytes += Buffer.byteLength(text);
            options.onProgress?.(written);
            yield text;
          }
        } while (start);
      };
      const md5 = createHash('md5');
      const path = options.storage.path(key);
      await mkdir(dirname(path), { recursive: true });
      await pipeline(
        Readable.from(lines()),
        createGzip(),
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            md5.update(chunk);
            done(null, chunk);
          },
        }),
        createWriteStream(`${path}.partial`),
      );
      await rename(`${path}.partial`, path);
      const digest = md5.digest();
      return {
        itemCount: items,
        md5Checksum: digest.toString('base64'),
        etag: digest.toString('hex'),
        dataFileS3Key: key,
      };
    }),
  );
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const files = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));

  const manifestFiles = `${folder}/manifest-files.json`;
  await options.storage.write(manifestFiles, files.map((f) => `${JSON.stringify(f)}\n`).join(''));
  const summary: ManifestSummary = {
    version: MANIFEST_VERSION,
    exportArn: `${tableArn}/export/${exportId}`,
    startTime: new Date(started).toISOString(),
    endTime: new Date(now()).toISOString(),
    tableArn,
    tableId: options.table,
    ...(from === undefined
      ? { exportTime: new Date(asOf).toISOString() }
      : {
          exportFromTime: new Date(from).toISOString(),
          exportToTime: new Date(asOf).toISOString(),
        }),
    s3Bucket: options.storage.bucket,
    s3Prefix: options.prefix,
    s3SseAlgorithm: null,
    s3SseKmsKeyId: null,
    manifestFilesS3Key: manifestFiles,
    billedSizeBytes: dataBytes,
    itemCount: files.reduce((sum, f) => sum + f.itemCount, 0),
    outputFormat: 'DYNAMODB_JSON',
    exportType: from === undefined ? 'FULL_EXPORT' : 'INCREMENTAL_EXPORT',
    ...(from === undefined ? {} : { outputView: 'NEW_IMAGE' as const }),
  };
  await options.storage.write(`${folder}/manifest-summary.json`, JSON.stringify(summary));
  return summary;
}

/**
 * A scanned commit as a data line: whole in a full export; in an incremental one, a change
 * with its new image when it was committed in the window, else nothing.
 */
function lineOf(
  item: Record<string, AttributeValue>,
  from: number | undefined,
  to: number,
): string | undefined {
  const json = jsonItem(item);
  if (from === undefined) return itemLine(json);
  const committed = Date.parse(item.committed_at?.S ?? '');
  if (!(committed > from && committed <= to)) return undefined;
  const keys = { aggregate_id: json.aggregate_id ?? {}, sequence: json.sequence ?? {} };
  return changeLine(keys, json, committed);
}
