import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StoreError } from '../StoreError.js';
import type { ArchiveStorage } from './ArchiveStorage.js';
import {
  EXPORTS_FOLDER,
  exportIdOf,
  type JsonItem,
  lineItem,
  type ManifestFile,
  type ManifestSummary,
  parseFiles,
  parseSummary,
} from './exportFormat.js';

/** One export of the archive, read from its manifests. */
export interface ArchivedExport {
  readonly id: string;
  readonly summary: ManifestSummary;
  readonly files: readonly ManifestFile[];
  /** Where its manifest summary is. */
  readonly summaryKey: string;
  /** The instant it holds the table up to: a full export's time, an incremental one's end. */
  readonly upTo: string;
  readonly incremental: boolean;
}

/** An export folder without a manifest summary: under way, or stopped before it finished. */
export interface UnfinishedExport {
  readonly id: string;
  readonly started: Date;
}

/**
 * The exports under an archive's prefix, oldest first by the instant they hold the table up
 * to, each with its manifests; and the folders that have no summary (yet).
 */
export async function listExports(
  storage: ArchiveStorage,
  prefix: string,
): Promise<{ exports: ArchivedExport[]; unfinished: UnfinishedExport[] }> {
  const root = `${prefix ? `${prefix}/` : ''}${EXPORTS_FOLDER}/`;
  const started = new Map<string, Date>();
  const summaries: string[] = [];
  for await (const object of storage.list(root)) {
    const [id, name] = object.key.slice(root.length).split('/');
    if (!id || !name) continue;
    if (name === '_started') started.set(id, object.modified);
    if (name === 'manifest-summary.json') summaries.push(object.key);
  }
  const exports = await Promise.all(summaries.map((key) => loadExport(storage, key)));
  exports.sort((a, b) => a.upTo.localeCompare(b.upTo) || a.id.localeCompare(b.id));
  for (const e of exports) started.delete(e.id);
  return {
    exports,
    unfinished: [...started].map(([id, date]) => ({ id, started: date })),
  };
}

/** One export from its `manifest-summary.json` and `manifest-files.json`. */
export async function loadExport(
  storage: ArchiveStorage,
  summaryKey: string,
): Promise<ArchivedExport> {
  const where = `${storage.description}/${summaryKey}`;
  const summary = parseSummary((await storage.read(summaryKey)).toString('utf8'), where);
  const filesKey = underPrefixOf(summaryKey, summary.manifestFilesS3Key);
  const files = parseFiles(
    (await storage.read(filesKey)).toString('utf8'),
    `${storage.description}/${filesKey}`,
  ).map((f) => ({ ...f, dataFileS3Key: underPrefixOf(summaryKey, f.dataFileS3Key) }));
  const incremental = summary.exportType === 'INCREMENTAL_EXPORT';
  const upTo = (incremental ? summary.exportToTime : summary.exportTime) ?? summary.startTime;
  return { id: exportIdOf(summary.exportArn), summary, files, summaryKey, upTo, incremental };
}

/**
 * A key a manifest names, as a key of the bucket: the Developer Guide's example manifests
 * name keys from `AWSDynamoDB/` on, without the export's prefix, although the files are
 * under it; such a key gets the prefix the summary itself is under.
 */
export function underPrefixOf(summaryKey: string, key: string): string {
  const at = summaryKey.indexOf(`${EXPORTS_FOLDER}/`);
  const prefix = at > 0 ? summaryKey.slice(0, at) : '';
  return prefix !== '' && key.startsWith(`${EXPORTS_FOLDER}/`) ? `${prefix}${key}` : key;
}

/** What a data file held when read through: its items, its bytes' MD5 (base64). */
export interface FileRead {
  readonly items: number;
  readonly md5: string;
}

/**
 * The items of a data file in pages of `pageSize`, as they are in the file (an incremental
 * export's deletions, which the events table never has, are skipped), from its item `from`
 * on (the items before it read and counted, not parsed: where an earlier call stopped).
 * Resolves `done` with what was read once the file ends.
 */
export function readDataFile(
  storage: ArchiveStorage,
  file: ManifestFile,
  pageSize = 1000,
  from = 0,
): {
  pages: AsyncIterable<JsonItem[]>;
  done: Promise<FileRead>;
  /** Items read so far, the `from` skipped included: after a page, where the next begins. */
  consumed: () => number;
} {
  let finish: (read: FileRead) => void = () => undefined;
  const done = new Promise<FileRead>((resolve) => {
    finish = resolve;
  });
  let count = 0;
  async function* pages(): AsyncIterable<JsonItem[]> {
    const md5 = createHash('md5');
    const body = await storage.open(file.dataFileS3Key);
    const hashed = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, next) {
          md5.update(chunk);
          next(null, chunk);
        },
      }),
    );
    const gunzip = createGunzip();
    body.on('error', (error) => gunzip.destroy(error));
    const lines = createInterface({
      input: hashed.pipe(gunzip),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let page: JsonItem[] = [];
    let lineNumber = 0;
    try {
      for await (const line of lines) {
        lineNumber++;
        if (line === '') continue;
        if (count < from) {
          // Read by an earlier call (a file applied in parts): counted, not parsed.
          count++;
          continue;
        }
        const item = lineItem(
          line,
          `${storage.description}/${file.dataFileS3Key} line ${lineNumber}`,
        );
        count++;
        if (item === null) continue;
        page.push(item);
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(
        'CORRUPT_ARCHIVE',
        `${storage.description}/${file.dataFileS3Key}: cannot be read (${(error as Error).message})`,
        {},
        { cause: error },
      );
    } finally {
      // A reader that stops early (a file applied in parts) leaves no stream open.
      lines.close();
      body.destroy();
    }
    if (page.length > 0) yield page;
    finish({ items: count, md5: md5.digest('base64') });
  }
  return { pages: pages(), done, consumed: () => count };
}

/** A data file whose contents do not match its manifest line. */
export interface FileMismatch {
  readonly file: string;
  readonly expected_items: number;
  readonly items: number;
  readonly checksum_ok: boolean;
}

export interface ExportVerification {
  readonly id: string;
  readonly items_in_manifest: number;
  readonly items_read: number;
  readonly files: number;
  readonly mismatches: readonly FileMismatch[];
  /** Items read equal the manifest's, file by file and in all, and every checksum matches. */
  readonly ok: boolean;
}

/**
 * Reads every data file of an export through and compares it with the manifests: each file's
 * items and MD5 with its `manifest-files.json` line, the sum with `manifest-summary.json`.
 */
export async function verifyExport(
  storage: ArchiveStorage,
  archived: ArchivedExport,
  onProgress?: (filesDone: number, itemsRead: number) => void,
): Promise<ExportVerification> {
  let itemsRead = 0;
  let filesDone = 0;
  const mismatches: FileMismatch[] = [];
  for (const file of archived.files) {
    const { pages, done } = readDataFile(storage, file);
    for await (const _page of pages) {
      // Reading through is the check: the count and checksum come with `done`.
    }
    const read = await done;
    itemsRead += read.items;
    filesDone++;
    const checksumOk = file.md5Checksum === undefined || read.md5 === file.md5Checksum;
    if (read.items !== file.itemCount || !checksumOk)
      mismatches.push({
        file: file.dataFileS3Key,
        expected_items: file.itemCount,
        items: read.items,
        checksum_ok: checksumOk,
      });
    onProgress?.(filesDone, itemsRead);
  }
  return {
    id: archived.id,
    items_in_manifest: archived.summary.itemCount,
    items_read: itemsRead,
    files: archived.files.length,
    mismatches,
    ok: mismatches.length === 0 && itemsRead === archived.summary.itemCount,
  };
}
