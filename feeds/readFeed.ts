import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { closestName } from './closestName.js';
import { FeedError } from './FeedError.js';
import { parseCsv } from './parseCsv.js';
import { readLines } from './readLines.js';

export type FeedFormat = 'csv' | 'jsonl';

/** One record of a feed, keyed by column (CSV header, lower-cased) or JSON key. */
export interface FeedRecord {
  readonly kind: 'record';
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  /** The line it ends on, when a quoted field carried it over more than one line. */
  readonly lastLine?: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A row that could not be used, with where it is and why. */
export interface FeedProblem {
  readonly kind: 'problem';
  readonly line: number;
  /** The last line the row took in, when it is more than one. */
  readonly lastLine?: number;
  readonly reason: string;
}

/**
 * Why a row that runs over several lines is probably broken: a quote opened and not closed on
 * its line takes the next lines into the row, which then fails as one row although it hides
 * several. Saying which lines it took tells the user where to look.
 */
export function spanOf(row: { readonly line: number; readonly lastLine?: number }): string {
  if (row.lastLine === undefined || row.lastLine <= row.line) return '';
  const taken =
    row.lastLine === row.line + 1
      ? `line ${row.lastLine}`
      : `lines ${row.line + 1}-${row.lastLine}`;
  return `a quoted field opened on line ${row.line} runs on to line ${row.lastLine} (a closing quote missing?), taking in ${taken}: `;
}

/** A column of a feed (a CSV header's, or a JSON record's key) that its format does not know. */
export interface UnknownColumn {
  /** As read: trimmed and lower-cased. */
  readonly name: string;
  /** The header's line, or the line of the first record with the key. */
  readonly line: number;
  readonly format: FeedFormat;
  /** The known column it is probably a typo of. */
  readonly closest?: string;
}

/**
 * One line about a column the feed's format does not know, with the known one it probably
 * meant: `season.csv: unknown column "matchid" (did you mean "match_id"?): ignored`.
 */
export function describeUnknownColumn(file: string, column: UnknownColumn): string {
  const csv = column.format === 'csv';
  // A header is the file's text: quoted and cut short, so it cannot run on or move the cursor.
  const name = JSON.stringify(
    column.name.length > 60 ? `${column.name.slice(0, 60)}…` : column.name,
  );
  const hint = column.closest ? ` (did you mean "${column.closest}"?)` : '';
  return `${csv ? file : `${file}:${column.line}`}: unknown ${csv ? 'column' : 'key'} ${name}${hint}: ignored`;
}

export interface ReadFeedOptions {
  /** Defaults to the file extension (`.csv`; `.jsonl`, `.ndjson`, `.json`), else the first byte. */
  readonly format?: FeedFormat;
  /** Columns a CSV header must have (`|` separates alternatives, e.g. `team|name`). */
  readonly requiredColumns?: readonly string[];
  /**
   * Every column the feed's format knows: each other one (of the CSV header, or a key of a
   * JSON record) goes to `onUnknownColumn`, once. Its values are still read, and ignored by
   * the format's reader.
   */
  readonly knownColumns?: readonly string[];
  readonly onUnknownColumn?: (column: UnknownColumn) => void;
  /** Called as bytes are read; `totalBytes` is 0 when unknown (standard input, a pipe). */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Standard input, used when the path is `-`. */
  readonly stdin?: Readable;
}

/** Largest accepted record, so a corrupt file cannot exhaust memory. */
export const MAX_RECORD_CHARS = 1024 * 1024;

const NOT_UTF8 = 'is not valid UTF-8 text';

/** Records and problems in file order, one batch per chunk read. */
export type FeedBatch = (FeedRecord | FeedProblem)[];

/**
 * Streams the records of a CSV (with header) or JSON Lines feed, with the line each starts on,
 * in batches. Unusable rows come out as problems in place; only an unreadable file throws
 * (`FeedError`).
 *
 * @example for await (const batch of readFeed('games.csv')) for (const item of batch) use(item);
 */
export async function* readFeed(
  path: string,
  options: ReadFeedOptions = {},
): AsyncGenerator<FeedBatch> {
  const source = await open(path, options);
  const format = options.format ?? formatOf(path, source.firstChar);
  const unknown = unknownColumns(format, options);
  if (format === 'jsonl')
    yield* jsonLines(path, source.text, options.requiredColumns ?? [], unknown);
  else yield* csvRecords(path, source.text, options.requiredColumns ?? [], unknown);
}

/** Reports each column `options` does not know, once (nothing without `knownColumns`). */
function unknownColumns(format: FeedFormat, options: ReadFeedOptions) {
  const { knownColumns, onUnknownColumn } = options;
  const known = new Set(knownColumns);
  const reported = new Set<string>();
  return (names: Iterable<string>, line: number): void => {
    if (!knownColumns || !onUnknownColumn) return;
    for (const name of names) {
      // A header's trailing comma names no column: nothing to say about it.
      if (name === '' || known.has(name) || reported.has(name)) continue;
      reported.add(name);
      const closest = closestName(name, knownColumns);
      onUnknownColumn({ name, line, format, ...(closest ? { closest } : {}) });
    }
  };
}

interface Source {
  readonly text: AsyncIterable<string>;
  readonly firstChar: string | undefined;
}

async function open(path: string, options: ReadFeedOptions): Promise<Source> {
  let input: Readable;
  let total = 0;
  if (path === '-') {
    input = options.stdin ?? process.stdin;
  } else {
    total = (await feedStat(path)).size;
    input = createReadStream(path, { highWaterMark: 1 << 20 });
  }
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let read = 0;
  const next = async (): Promise<string | undefined> => {
    let result: IteratorResult<Buffer | string>;
    try {
      result = await chunks.next();
    } catch (error) {
      throw unreadable(path, error);
    }
    if (result.done) return undefined;
    const bytes = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
    read += bytes.length;
    options.onProgress?.(read, total);
    return decoder.decode(bytes, { stream: true });
  };
  // Peek at the first chunk to tell JSON Lines from CSV, then hand every chunk on.
  const first = await next();
  async function* text(): AsyncGenerator<string> {
    let chunk = first;
    while (chunk !== undefined) {
      yield chunk;
      chunk = await next();
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }
  return { text: text(), firstChar: first?.trimStart()[0] };
}

/**
 * How a feed can be read: a regular file as often as needed (checked before it is stored,
 * counted for progress), a stream once (standard input, a pipe such as `<(zcat feed.gz)`, a
 * terminal).
 */
export type FeedKind = 'file' | 'stream';

/**
 * Fails as reading would (`FEED_UNREADABLE`, the same words) when the feed at `path` cannot be
 * read, before a command sets anything up for it, and says how it can be read. Standard input
 * (`-`) is not looked at.
 */
export async function ensureReadable(path: string): Promise<FeedKind> {
  if (path === '-') return 'stream';
  const kind = (await feedStat(path)).kind;
  await access(path, constants.R_OK).catch((error: unknown) => {
    throw unreadable(path, error);
  });
  return kind;
}

/** What the feed at `path` is, and its size (0, unknown, for a stream). */
async function feedStat(path: string): Promise<{ kind: FeedKind; size: number }> {
  try {
    const info = await stat(path);
    if (info.isFile()) return { kind: 'file', size: info.size };
    if (info.isFIFO() || info.isCharacterDevice() || info.isSocket())
      return { kind: 'stream', size: 0 };
    throw new Error(info.isDirectory() ? 'a folder, not a file' : 'not a regular file');
  } catch (error) {
    throw unreadable(path, error);
  }
}

function unreadable(path: string, error: unknown): FeedError {
  return new FeedError('FEED_UNREADABLE', path, `cannot read: ${reason(error)}`, { cause: error });
}

function formatOf(path: string, firstChar: string | undefined): FeedFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  return firstChar === '{' ? 'jsonl' : 'csv';
}

async function* csvRecords(
  path: string,
  text: AsyncIterable<string>,
  requiredColumns: readonly string[],
  unknown: (names: Iterable<string>, line: number) => void,
): AsyncGenerator<FeedBatch> {
  let header: string[] | undefined;
  for await (const batch of parseCsv(text, MAX_RECORD_CHARS)) {
    const out: FeedBatch = [];
    for (const item of batch) {
      if (item.kind === 'problem') {
        out.push(item);
        continue;
      }
      const { line, lastLine, fields: values } = item;
      if (header === undefined) {
        header = checkHeader(path, values, requiredColumns, line);
        unknown(header, line);
        continue;
      }
      const at = lastLine === undefined ? { line } : { line, lastLine };
      if (values.length > header.length) {
        const reason = `${spanOf(item)}row has ${values.length} fields, the header has ${header.length}`;
        out.push({ kind: 'problem', ...at, reason });
        continue;
      }
      if (values.some((v) => v.includes('\uFFFD'))) {
        out.push({ kind: 'problem', ...at, reason: `${spanOf(item)}row ${NOT_UTF8}` });
        continue;
      }
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) fields[header[i] as string] = values[i];
      out.push({ kind: 'record', ...at, fields });
    }
    if (out.length > 0) yield out;
  }
  if (header === undefined && requiredColumns.length > 0) {
    throw new FeedError('FEED_MISSING_COLUMNS', path, 'the file is empty: no header row');
  }
}

function checkHeader(
  path: string,
  record: readonly string[],
  requiredColumns: readonly string[],
  line: number,
): string[] {
  const header = record.map((name) => name.trim().toLowerCase());
  const seen = new Set<string>();
  for (const column of header) {
    if (column !== '' && seen.has(column)) {
      throw new FeedError(
        'FEED_BAD_HEADER',
        path,
        `column "${column}" appears twice in the header`,
        {
          line,
        },
      );
    }
    seen.add(column);
  }
  const missing = requiredColumns.filter((c) => !c.split('|').some((alt) => seen.has(alt)));
  if (missing.length > 0) {
    const plural = missing.length > 1 ? 's' : '';
    throw new FeedError(
      'FEED_MISSING_COLUMNS',
      path,
      `missing required column${plural} ${missing.join(', ')} (header: ${header.join(',').slice(0, 200)})`,
      { line },
    );
  }
  return header;
}

async function* jsonLines(
  path: string,
  text: AsyncIterable<string>,
  requiredColumns: readonly string[],
  unknown: (names: Iterable<string>, line: number) => void,
): AsyncGenerator<FeedBatch> {
  let empty = true;
  for await (const batch of readLines(text, MAX_RECORD_CHARS)) {
    const out: FeedBatch = [];
    for (const item of batch) {
      if (item.kind === 'problem') out.push(item);
      else if (item.text.trim() !== '') {
        const record = jsonRecord(item.line, item.text);
        if (record.kind === 'record') unknown(Object.keys(record.fields), record.line);
        out.push(record);
      }
    }
    if (out.length > 0) {
      empty = false;
      yield out;
    }
  }
  // As an empty CSV file is: nothing read may be a feed that failed upstream (a pipe).
  if (empty && requiredColumns.length > 0) {
    throw new FeedError('FEED_MISSING_COLUMNS', path, 'the file is empty: no JSON line');
  }
}

function jsonRecord(line: number, text: string): FeedRecord | FeedProblem {
  if (text.includes('\uFFFD')) return { kind: 'problem', line, reason: `line ${NOT_UTF8}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'problem', line, reason: `not valid JSON: ${reason(error)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'problem', line, reason: 'not a JSON object' };
  }
  const fields: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) fields[key.trim().toLowerCase()] = v;
  return { kind: 'record', line, fields };
}

function reason(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && error.code === 'ENOENT') {
    return 'no such file';
  }
  return error instanceof Error ? error.message : String(error);
}
