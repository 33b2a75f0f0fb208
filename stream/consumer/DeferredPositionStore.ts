import type { PositionStore } from './PositionStore.js';

/**
 * Positions whose writes wait for a flush: for a consumer whose effects are themselves
 * written later (a rebuild folding pages and writing them now and then), so that a position
 * is never stored before the effects it stands for. Until written, `positions` answers with
 * the advances held, so a stream split across deliveries is not applied twice.
 */
export class DeferredPositionStore implements PositionStore {
  private held = new Map<string, number>();
  /** Taken for the flush under way, not written yet. */
  private taken = new Map<string, number>();

  constructor(private readonly stored: PositionStore) {}

  async positions(aggregateIds: readonly string[]): Promise<Map<string, number>> {
    // Read before waiting: a flush may write and forget what it took meanwhile.
    const known = new Map<string, number>();
    for (const id of aggregateIds) {
      const sequence = this.held.get(id) ?? this.taken.get(id);
      if (sequence !== undefined) known.set(id, sequence);
    }
    const unknown = aggregateIds.filter((id) => !known.has(id));
    const found = unknown.length > 0 ? await this.stored.positions(unknown) : new Map();
    return new Map(aggregateIds.map((id) => [id, known.get(id) ?? found.get(id) ?? 0]));
  }

  async advance(positions: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, sequence] of positions)
      if (sequence > (this.held.get(id) ?? this.taken.get(id) ?? 0)) this.held.set(id, sequence);
  }

  /**
   * Takes the positions held so far for `write` (later advances are held for the next
   * flush); returns how many streams it took.
   */
  take(): number {
    for (const [id, sequence] of this.held) this.taken.set(id, sequence);
    this.held = new Map();
    return this.taken.size;
  }

  /** Writes the positions taken, then forgets them. */
  async write(): Promise<void> {
    if (this.taken.size === 0) return;
    await this.stored.advance(this.taken);
    this.taken = new Map();
  }

  /** Takes and writes every position held. */
  async flush(): Promise<void> {
    this.take();
    await this.write();
  }
}
