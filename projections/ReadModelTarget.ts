import type { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import type { DeferredPositionStore } from '../stream/consumer/DeferredPositionStore.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { Mutex } from '../stream/Mutex.js';
import type { ReplayTarget } from '../stream/replay/replay.js';
import type { Projector } from './Projector.js';

/** How a rebuild's target folds pages and when it writes them. */
export interface Folding {
  /**
   * The positions of the consumer that will feed the generation afterwards: each stream's
   * events go through them, so that consumer takes over exactly where the replay stopped.
   * Its `apply` folds (`projector.fold`), and its positions are held until a flush.
   */
  readonly sequencer: AggregateSequencer;
  readonly positions: DeferredPositionStore;
  /** Flush once the folded documents take more than this many bytes (`foldedBytes`). */
  readonly budgetBytes: number;
}

/**
 * Replayed events into one read model's documents. With `folding` (a rebuild), pages are
 * folded in memory and written by `flush`: when the folded documents pass the budget, and
 * whenever the replay saves a checkpoint (so a checkpoint only covers written pages). A
 * flush writes the documents, then the positions, while later pages go on folding. Without
 * it (a repair of the live generation), each page is applied as it comes, and the
 * projection's own guards skip what a document has seen already.
 */
export class ReadModelTarget implements ReplayTarget {
  readonly concurrent = true;
  /** Flushes that wrote something. */
  flushes = 0;
  /** The most the folded documents held between flushes (bytes, `foldedBytes`). */
  peakFoldedBytes = 0;
  /** With folding: events the sequencer handed on, and those it dropped as applied before. */
  applied = 0;
  duplicates = 0;
  private readonly turns = new Mutex();
  private running: Promise<void> | undefined;

  constructor(
    private readonly projector: Projector,
    readonly description: string,
    private readonly folding?: Folding,
  ) {}

  async deliver(events: readonly EventEnvelope[]): Promise<void> {
    const folding = this.folding;
    if (!folding) {
      await this.projector.apply(events);
      return;
    }
    const delivery = await folding.sequencer.deliverAll([events]);
    this.applied += delivery.applied;
    this.duplicates += delivery.duplicates;
    this.peakFoldedBytes = Math.max(this.peakFoldedBytes, this.projector.foldedBytes);
    // Past the budget: wait for the flush under way (its writes hold this page back, which
    // bounds what folds meanwhile), then flush unless it brought the fold under the budget.
    if (this.projector.foldedBytes <= folding.budgetBytes) return;
    if (this.running) await this.running;
    if (this.projector.foldedBytes > folding.budgetBytes) await this.flush();
  }

  /**
   * Writes what was folded until now: the documents, then the positions of the same
   * deliveries (taken together, no fold under way). Covers every page delivered before it
   * was called; flushes take turns.
   */
  flush(): Promise<void> {
    const folding = this.folding;
    if (!folding) return Promise.resolve();
    const flush = this.turns.run(async () => {
      let wrote = false;
      await this.projector.flush((empty) => {
        // A delivery folded before this moment has its documents in this flush; its
        // position, advanced after its fold, is taken here or by the next flush.
        wrote = folding.positions.take() > 0 || !empty;
      });
      await folding.positions.write();
      if (wrote) this.flushes++;
    });
    this.running = flush;
    const done = () => {
      if (this.running === flush) this.running = undefined;
    };
    flush.then(done, done);
    return flush;
  }
}
