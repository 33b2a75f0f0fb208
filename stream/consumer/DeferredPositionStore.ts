import type { PositionStore } from './PositionStore.js';

/**
 * Positions whose writes wait for `flush`: for a consumer whose effects are themselves
 * written later (a rebuild folding pages and writing them now and then), so that a position
 * is never stored before the effects it stands for. Until then, `positions` answers with the
 * advances held, so a stream split across deliveries is not applied twice.
 */
export class DeferredPositionStore implements PositionStore {
  private readonly held = new Map<string, number>();

  constructor(private readonly stored: PositionStore) {}

  async positions(aggregateIds: readonly string[]): Promise<Map<string, number>> {
    const unknown = aggregateIds.filter((id) => !this.held.has(id));
    const found = unknown.length > 0 ? await this.stored.positions(unknown) : new Map();
    return new Map(aggregateIds.map((id) => [id, this.held.get(id) ?? found.get(id) ?? 0]));
  }

  async advance(positions: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, sequence] of positions)
      if (sequence > (this.held.get(id) ?? 0)) this.held.set(id, sequence);
  }

  /** Streams whose positions are held. */
  get size(): number {
    return this.held.size;
  }

  /** Writes the positions held, then forgets them (a later advance of one is kept). */
  async flush(): Promise<void> {
    if (this.held.size === 0) return;
    const writing = new Map(this.held);
    await this.stored.advance(writing);
    for (const [id, sequence] of writing) if (this.held.get(id) === sequence) this.held.delete(id);
  }
}
