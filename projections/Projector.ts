import type { EventEnvelope } from '../stream/EventEnvelope.js';
import type { DocumentStore } from './DocumentStore.js';
import {
  type Doc,
  type DocKey,
  type DocView,
  keyString,
  type Projection,
  type StoredDoc,
} from './Projection.js';

/** Rounds of `reads` before a projection is taken to be looping. */
const MAX_READ_ROUNDS = 5;

/**
 * Applies batches of events to a read model's document store: loads what the projection
 * reads (in bulk, once per batch), evolves in memory event by event, and writes each changed
 * document once at the end. A batch's events come in per-stream order (see the sequencer).
 */
export class Projector {
  constructor(
    readonly projection: Projection,
    readonly store: DocumentStore,
  ) {}

  /** Whether the read model reads this event (its type is one of the projection's). */
  reads(event: EventEnvelope): boolean {
    const types = this.projection.eventTypes;
    return types === '*' || types.includes(event.event_type);
  }

  async apply(events: readonly EventEnvelope[]): Promise<void> {
    const types = this.projection.eventTypes;
    const relevant = types === '*' ? undefined : new Set(types);
    const loaded = new Map<string, Doc | undefined>();
    // The documents read from the store: the guards that say what a document has seen.
    const read = new Set<string>();
    const changed = new Map<string, StoredDoc | DocKey>();
    const view: DocView = {
      get: (key) => {
        const k = keyString(key);
        if (!loaded.has(k)) {
          throw new Error(
            `projection ${this.projection.name} read ${key.pk}/${key.sk} without naming it in reads()`,
          );
        }
        return loaded.get(k);
      },
    };
    const mine = events.filter((e) => !relevant || relevant.has(e.event_type));
    // Load what the whole batch reads in bulk, a round per level of indirection; the loop
    // below then finds nearly everything loaded (it still loads what evolving revealed).
    for (let round = 0; round < MAX_READ_ROUNDS; round++) {
      const peek: DocView = { get: (key) => loaded.get(keyString(key)) };
      const missing = mine
        .flatMap((e) => this.projection.reads(e, peek))
        .filter((key) => !loaded.has(keyString(key)));
      if (missing.length === 0) break;
      const keys = unique(missing);
      const found = await this.store.getMany(keys);
      for (const key of keys) {
        loaded.set(keyString(key), found.get(keyString(key)));
        read.add(keyString(key));
      }
    }
    for (const event of mine) {
      for (let round = 0; ; round++) {
        const missing = this.projection
          .reads(event, { get: (key) => loaded.get(keyString(key)) })
          .filter((key) => !loaded.has(keyString(key)));
        if (missing.length === 0) break;
        if (round >= MAX_READ_ROUNDS)
          throw new Error(`projection ${this.projection.name} keeps asking for more documents`);
        const found = await this.store.getMany(unique(missing));
        for (const key of missing) {
          loaded.set(keyString(key), found.get(keyString(key)));
          read.add(keyString(key));
        }
      }
      const changes = this.projection.evolve(view, event);
      for (const key of changes.delete ?? []) {
        loaded.set(keyString(key), undefined);
        changed.set(keyString(key), { pk: key.pk, sk: key.sk });
      }
      for (const put of changes.put ?? []) {
        loaded.set(keyString(put), put.doc);
        changed.set(keyString(put), put);
      }
    }
    // A write of many documents is not atomic (BatchWriteItem is atomic per item, not as a
    // whole, and a write takes several calls in parallel): a process killed in the middle
    // leaves any subset of them written. The documents the projection read are what it
    // decides by ("this match is at version 3, skip"): written before the rest, a guard would
    // make the repeated batch skip the copies still missing. So the others go first and the
    // read ones last: until those land, a repeat redoes it all.
    const [derived, guards] = [new Changes(), new Changes()];
    for (const [key, change] of changed) (read.has(key) ? guards : derived).add(change);
    if (!derived.empty) await this.store.write(derived.puts, derived.deletes);
    if (!guards.empty) await this.store.write(guards.puts, guards.deletes);
  }
}

/** Documents to put and to delete, in one write. */
class Changes {
  readonly puts: StoredDoc[] = [];
  readonly deletes: DocKey[] = [];

  add(change: StoredDoc | DocKey): void {
    if ('doc' in change) this.puts.push(change);
    else this.deletes.push(change);
  }

  get empty(): boolean {
    return this.puts.length === 0 && this.deletes.length === 0;
  }
}

function unique(keys: readonly DocKey[]): DocKey[] {
  const seen = new Map<string, DocKey>();
  for (const key of keys) seen.set(keyString(key), key);
  return [...seen.values()];
}
