import { type FileHandle, open, rm } from 'node:fs/promises';

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
