/**
 * How far a consumer has applied each stream: the last sequence applied per aggregate. It
 * only moves forward, so a stale or repeated `advance` is harmless.
 */
export interface PositionStore {
  /** The last sequence applied for a stream (0 when none). */
  position(aggregateId: string): Promise<number>;
  /** Records that every event up to `sequence` was applied. */
  advance(aggregateId: string, sequence: number): Promise<void>;
}

/** Positions in process memory (tests, in-process runs that keep nothing). */
export class InMemoryPositionStore implements PositionStore {
  private readonly positions = new Map<string, number>();

  async position(aggregateId: string): Promise<number> {
    return this.positions.get(aggregateId) ?? 0;
  }

  async advance(aggregateId: string, sequence: number): Promise<void> {
    if (sequence > (this.positions.get(aggregateId) ?? 0))
      this.positions.set(aggregateId, sequence);
  }
}
