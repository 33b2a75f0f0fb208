import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { envelopeLines } from '../stream/replay/FileTarget.js';
import type { ReplayTarget } from '../stream/replay/replay.js';
import { write } from './write.js';

/**
 * Replayed events on standard output, one envelope a line (`replay --to file:-`). What went
 * down a pipe cannot be taken back, so such a replay is never resumed: it starts over.
 */
export class StdoutTarget implements ReplayTarget {
  readonly concurrent = false;
  readonly description = 'standard output';

  async deliver(events: readonly EventEnvelope[]): Promise<void> {
    await write(envelopeLines(events));
  }

  /** Lines already written as `envelopeLines` writes them (a replay's spooled file). */
  writeText(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      process.stdout.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }
}
