import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The data folder is held by another live process. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the data folder ${dir} is in use by another matchstream process (pid ${holder.pid}: ` +
        `"${holder.command}", since ${holder.started_at}); the embedded store serves one ` +
        `process at a time: run this when that one has ended, or stop it (Ctrl-C where it runs, or kill ${holder.pid})`,
    );
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly command: string;
  readonly started_at: string;
  /** The local API of the holder, when it serves one (`serve`, `start --serve`). */
  readonly api?: string;
  /**
   * The folder the lock was taken in (its device and inode), so that a copy of the folder,
   * lock file and all, is not taken for the folder its holder holds. Absent from older locks.
   */
  readonly folder?: string;
}

const LOCK_FILE = 'matchstream.lock';

/**
 * Takes the data folder for this process: a lock file naming the process, created only if
 * absent. A lock left by a process that no longer runs is taken over. Returns the release.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  const folder = folderId(dir);
  const me: LockHolder = {
    pid: process.pid,
    command: ['matchstream', ...process.argv.slice(2)].join(' ').slice(0, 200),
    started_at: new Date().toISOString(),
    ...(folder === undefined ? {} : { folder }),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = dataDirHolder(dir);
      if (holder) throw new DataDirInUseError(dir, holder);
      rmSync(file, { force: true }); // left by a process that is gone, or copied from elsewhere
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/**
 * The live process holding the data folder, if any: the one its lock names, if it runs and the
 * lock was taken in this folder (a lock copied with the folder, `cp -r` while a server held
 * it, names the original's holder, which holds the original, not the copy).
 */
export function dataDirHolder(dir: string): LockHolder | undefined {
  const holder = readHolder(join(dir, LOCK_FILE));
  if (!holder || !isAlive(holder.pid)) return undefined;
  return holder.folder === undefined || holder.folder === folderId(dir) ? holder : undefined;
}

/** The folder's identity, kept when it is moved on its disk (renamed), not when copied. */
function folderId(dir: string): string | undefined {
  try {
    const { dev, ino } = statSync(dir);
    return `${dev}:${ino}`;
  } catch {
    return undefined;
  }
}

/** Records in this process's lock where its local API listens, for other commands to use. */
export function announceApi(dir: string, api: string): void {
  const file = join(dir, LOCK_FILE);
  const holder = readHolder(file);
  if (holder?.pid !== process.pid) return;
  writeFileSync(file, `${JSON.stringify({ ...holder, api })}\n`);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number'
      ? {
          pid: parsed.pid,
          command: String(parsed.command ?? '?'),
          started_at: String(parsed.started_at ?? '?'),
          ...(typeof parsed.api === 'string' ? { api: parsed.api } : {}),
          ...(typeof parsed.folder === 'string' ? { folder: parsed.folder } : {}),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
