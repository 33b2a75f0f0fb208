import { type FileHandle, open, rm } from 'node:fs/promises';
import { ensureReadable } from '../feeds/readFeed.js';
import { CliError, EXIT } from './exitCodes.js';
import { sameFile } from './sameFile.js';

/**
 * The rejects file of a run (`ingest`, `teams import`), one line a row. Opened, and emptied,
 * before anything is stored, so that a file that cannot be written fails first with nothing
 * half done; removed at the end when no row went to it, so that it speaks of this run only.
 */
export class RejectsFile {
  private lines = 0;
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Fails as opening the file fails (ENOENT, EACCES, EISDIR, ...). */
  static async open(path: string): Promise<RejectsFile> {
    return new RejectsFile(path, await open(path, 'w'));
  }

  /** Appends `text` after what came before; a failure to write it is thrown by `close`. */
  write(text: string): void {
    this.lines++;
    this.writes = this.writes.then(async () => {
      if (this.failure === undefined)
        await this.handle.writeFile(text).catch((error: unknown) => {
          // An error of a file handle names no file: given this one's, a write the system
          // refused (a full disk) is said as `FILE: cannot write: no space left on device`.
          if (error instanceof Error && (error as NodeJS.ErrnoException).path === undefined)
            Object.assign(error, { path: this.path });
          this.failure = error;
        });
    });
  }

  /** Waits for the writes and closes the file, removing it if nothing was written. */
  async close(): Promise<void> {
    await this.writes;
    const regular = (await this.handle.stat()).isFile();
    await this.handle.close();
    if (this.failure !== undefined) throw this.failure;
    // A device such as /dev/null is left as it is.
    if (this.lines === 0 && regular) await rm(this.path, { force: true });
  }
}

/** `--rejects -` (standard output) with `--json`, whose summary goes there too: refused. */
export function refuseRejectsWithJson(flags: {
  readonly rejects?: string;
  readonly json?: boolean;
}): void {
  if (flags.rejects === '-' && flags.json)
    throw new CliError(
      '--json prints the summary on standard output, which carries the rejected rows here: drop --json, or name a file',
      EXIT.USAGE,
    );
}

/**
 * Where the rows rejected from `file` go unless `--rejects` says (and not `-`): beside the
 * file, as `FILE.rejects.jsonl`, or `fallback` in the current folder for standard input or a
 * pipe (nothing can be written beside /dev/fd/63). Fails, as reading would, on an input it
 * cannot read. A rejects file that is the input itself, by whatever name, is refused before
 * anything is read: writing it would replace the input (`what`: "feed", "team list").
 */
export async function rejectsPathFor(
  file: string,
  rejects: string | undefined,
  input: { readonly what: string; readonly fallback: string },
): Promise<string> {
  const streamed = (await ensureReadable(file)) === 'stream';
  const path = rejects ?? (streamed ? input.fallback : `${file}.rejects.jsonl`);
  if (rejects !== '-' && sameFile(file === '-' ? 0 : file, path))
    throw new CliError(
      `the rejects file ${path} is ${file === '-' ? `the ${input.what} on standard input` : `the ${input.what} ${file}`} itself: writing it would replace the ${input.what === 'feed' ? 'feed' : 'list'}; name another with --rejects`,
      EXIT.USAGE,
    );
  return path;
}
