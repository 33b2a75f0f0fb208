import { type FileHandle, open } from 'node:fs/promises';
import type { EventEnvelope } from '../EventEnvelope.js';
import type { ReplayTarget } from './replay.js';

/**
 * Replayed events as JSON Lines, one envelope a line, for inspection. Pages are written one
 * at a time and the checkpoint records the file's size, so a resumed replay cuts the file back
 * to it and nothing is written twice.
 */
export class FileTarget implements ReplayTarget {
  readonly concurrent = false;
  readonly description: string;
  private handle: FileHandle | undefined;
  private size = 0;

  constructor(private readonly path: string) {
    this.description = `file ${path}`;
  }

  async resumeAt(position: number): Promise<void> {
    const handle = await this.file(false);
    await handle.truncate(position);
    this.size = position;
  }

  /** A replay that starts over starts the file empty (and makes it, for a replay of nothing). */
  async begin(): Promise<void> {
    await this.file(true);
  }

  async deliver(events: readonly EventEnvelope[]): Promise<void> {
    await this.writeText(Buffer.from(envelopeLines(events), 'utf8'));
  }

  /** Appends lines already written as `envelopeLines` writes them (a replay's spooled file). */
  async writeText(bytes: Buffer): Promise<void> {
    const handle = await this.file(true);
    await handle.write(bytes, 0, bytes.length, this.size);
    this.size += bytes.length;
  }

  position(): number {
    return this.size;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    try {
      await handle?.sync();
    } finally {
      // Closed even when the sync fails, which then says so.
      await handle?.close();
    }
  }

  /** Opens the file; a fresh replay (not resumed) starts it empty. */
  private async file(fresh: boolean): Promise<FileHandle> {
    if (!this.handle) {
      this.handle = await open(this.path, fresh ? 'w' : 'a+');
      if (fresh) this.size = 0;
    }
    return this.handle;
  }
}

/** Envelopes as JSON Lines, as every replay to a file writes them. */
export function envelopeLines(events: readonly EventEnvelope[]): string {
  return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}
