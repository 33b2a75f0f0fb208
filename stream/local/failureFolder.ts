import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { InvocationRecord } from '../consumer/invocationRecord.js';

/** The suffix of a record being written (`put`). */
const PARTIAL = '.partial';

/** Where a data folder keeps the invocation records of the batches its consumers gave up on. */
export const failureFolder = (dataDir: string) => join(dataDir, 'failures');

/** Where an on-failure destination puts an invocation record, under its key. */
export interface InvocationRecordSink {
  put(key: string, record: InvocationRecord): Promise<void>;
}

/**
 * The local stand-in of an S3 on-failure destination: each invocation record a file under
 * the folder at the object key Lambda would give it, holding the JSON Lambda would write.
 */
export class FolderInvocationRecords implements InvocationRecordSink {
  constructor(private readonly folder: string) {}

  /**
   * Writes a record whole: to a temporary name, then renamed, so that a process killed while
   * it writes leaves no half object for `list` to find unreadable (its batch, not checkpointed,
   * is given up on again and written again).
   */
  async put(key: string, record: InvocationRecord): Promise<void> {
    const file = join(this.folder, ...key.split('/'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}${PARTIAL}`, JSON.stringify(record));
    await rename(`${file}${PARTIAL}`, file);
  }

  /** Removes an object (one that was sent back); one that is gone already is no error. */
  async remove(key: string): Promise<void> {
    await rm(join(this.folder, ...key.split('/')), { force: true });
  }

  /**
   * Every object kept, by key in key order (a folder that does not exist holds none), without
   * a record a killed process was writing.
   */
  async list(): Promise<{ key: string; body: string }[]> {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.endsWith(PARTIAL)) files.push(path);
      }
    };
    await walk(this.folder);
    const keys = files.map((f) => relative(this.folder, f).split(sep).join('/')).sort();
    return Promise.all(
      keys.map(async (key) => ({
        key,
        body: await readFile(join(this.folder, ...key.split('/')), 'utf8'),
      })),
    );
  }
}
