import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';

/**
 * About how many data rows a games feed holds, from its line breaks (the header aside for a
 * CSV file): a total for a progress bar while the reader has not reached the end, read at
 * disk speed. Undefined for standard input, a pipe, or an unreadable file (the reader says why).
 */
export async function estimateRows(path: string): Promise<number | undefined> {
  if (path === '-') return undefined;
  // A pipe is read once, by the ingest: counting its lines would take them.
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  let lines = 0;
  let last = 0x0a;
  let first: number | undefined;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      first ??= chunk.find(
        (b) =>
          b !== 0x20 &&
          b !== 0x09 &&
          b !== 0x0d &&
          b !== 0x0a &&
          b !== 0xef &&
          b !== 0xbb &&
          b !== 0xbf,
      );
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
      if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
    }
  } catch {
    return undefined;
  }
  if (last !== 0x0a) lines++;
  const jsonLines =
    ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase()) || first === 0x7b;
  return Math.max(0, jsonLines ? lines : lines - 1);
}
