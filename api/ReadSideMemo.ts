import { LRUCache } from 'lru-cache';

/**
 * Answers worked out from whole read models (a season's standings, its weekly ratings), kept
 * while the read models do not change, where the deployment can tell: `version` is a count
 * that moves whenever a read model's table is written, by anyone, once the write can be read
 * (the embedded store counts its writes: `EmbeddedDynamo.writesCounted`). An answer is kept
 * under the count read before it was worked out, so one that read a write in flight is never
 * served again: the write moves the count once it is done. Where the writes cannot be
 * counted (on AWS other functions write the tables), `version` is a window of the clock, and
 * an answer is kept to the window's end. The requests asked for the same answer at once share
 * one working out. Without a `version`, every answer is worked out anew.
 */
export class ReadSideMemo {
  private readonly answers: LRUCache<string, { version: number; answer: Promise<unknown> }>;

  constructor(
    private readonly version: (() => number | undefined) | undefined,
    /** Answers kept at most (the least recently asked for go first). */
    max = 8,
  ) {
    this.answers = new LRUCache({ max });
  }

  /** The answer under `key`: kept, while nothing was written since, or worked out by `work`. */
  answer<T>(key: string, work: () => Promise<T>): Promise<T> {
    const version = this.version?.();
    if (version === undefined) return work();
    const kept = this.answers.get(key);
    if (kept && kept.version === version) return kept.answer as Promise<T>;
    const answer = work();
    const entry = { version, answer };
    this.answers.set(key, entry);
    // A failure is not kept: the next request works it out again.
    answer.catch(() => {
      if (this.answers.peek(key) === entry) this.answers.delete(key);
    });
    return answer;
  }
}
