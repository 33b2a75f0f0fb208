import type { EventEnvelope } from '../stream/EventEnvelope.js';
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
    await write(`${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  }
}
