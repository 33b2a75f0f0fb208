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
 * flush writes the documents, then the positions. Without it (a repair of the live
 * generation), each page is applied as it comes, and the projection's own guards skip what
 * a document has seen already.
 */
export class ReadModelTarget implements ReplayTarget {
  readonly concurrent = true;
  /** Flushes that wrote something. */
  flushes = 0;
  /** The most the folded documents held between flushes (bytes, `foldedBytes`). */
  peakFoldedBytes = 0;
  private readonly gate = new Gate();

  constructor(
    private readonly projector: Projector,
    readonly description: string,
    private readonly folding?: Folding,
  ) {}

  async deliver(events: readonly EventEnvelope[]): Promise<void> {
    const folding = this.folding;
    if (!folding) return this.projector.apply(events);
    await this.gate.shared(() => folding.sequencer.deliverAll([events]));
    const bytes = this.projector.foldedBytes;
    this.peakFoldedBytes = Math.max(this.peakFoldedBytes, bytes);
    if (bytes > folding.budgetBytes) await this.flush();
  }

  /**
   * Writes what was folded: the documents, then the positions. No delivery is under way
   * meanwhile, so the positions written are exactly those of the documents written.
   */
  async flush(): Promise<void> {
    const folding = this.folding;
    if (!folding) return;
    await this.gate.exclusive(async () => {
      if (this.projector.foldedBytes === 0 && folding.positions.size === 0) return;
      await this.projector.flush();
      await folding.positions.flush();
      this.flushes++;
    });
  }
}

/** Many deliveries at once, or one flush alone. */
class Gate {
  private active = 0;
  private drained: (() => void) | undefined;
  private closed: Promise<void> | undefined;
  private readonly flushes = new Mutex();

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    this.active++;
    try {
      return await work();
    } finally {
      if (--this.active === 0) this.drained?.();
    }
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.flushes.run(async () => {
      let open = () => {};
      this.closed = new Promise<void>((resolve) => {
        open = resolve;
      });
      try {
        if (this.active > 0)
          await new Promise<void>((resolve) => {
            this.drained = resolve;
          });
        this.drained = undefined;
        return await work();
      } finally {
        this.closed = undefined;
        open();
      }
    });
  }
}
