/**
 * How far a consumer has applied each stream: the last sequence applied per aggregate. It
 * only moves forward.
 */
export interface PositionStore {
  /** The last sequence applied for each stream (0 when none). */
  positions(aggregateIds: readonly string[]): Promise<Map<string, number>>;
  /** Records that every event up to the given sequence was applied, per stream. */
  advance(positions: ReadonlyMap<string, number>): Promise<void>;
}

/** Positions in process memory (tests, in-process runs that keep nothing). */
export class InMemoryPositionStore implements PositionStore {
  private readonly stored = new Map<string, number>();

  async positions(aggregateIds: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const id of aggregateIds) found.set(id, this.stored.get(id) ?? 0);
    return found;
  }

  async advance(positions: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, sequence] of positions) {
      if (sequence > (this.stored.get(id) ?? 0)) this.stored.set(id, sequence);
    }
  }
}
