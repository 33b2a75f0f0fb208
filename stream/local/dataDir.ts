import { join } from 'node:path';

/**
 * Where a data folder keeps what: its default name and its parts. A module of its own, with
 * nothing heavy behind it, so that the CLI's option defaults load no store.
 */

export const DEFAULT_DATA_DIR = '.matchstream';

/** Where the embedded dynalite of a data folder keeps its tables (and its lock). */
export function storeDir(dataDir: string): string {
  return join(dataDir, 'dynamodb');
}

/** Where a data folder keeps its archive: exports of the events table (`stream/archive/`). */
export function archiveDir(dataDir: string): string {
  return join(dataDir, 'archive');
}

/** Where the embedded kinesalite of a data folder keeps the change stream. */
export function streamDir(dataDir: string): string {
  return join(dataDir, 'kinesis');
}
