import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { Mutex } from '../stream/Mutex.js';
import type { DocumentStore } from './DocumentStore.js';
import { KeyFilter } from './KeyFilter.js';
import {
  type Doc,
  type DocKey,
  type DocView,
  type EntryChanges,
  keyString,
  type Projection,
  type StoredDoc,
} from './Projection.js';

/**
 * What the heap holds for a folded document beyond its JSON: its key, the maps that track it,
 * the object itself. Measured by folding 100,000 events of each main read model without a
 * flush, the heap took about 700 bytes a document, of which its JSON was 40 to 340: with 512
 * added to the JSON, the estimate stays within 0.9 to 1.4 of the heap (bench/README.md,
 * "Rebuilds folding pages").
 */
const DOC_OVERHEAD = 512;
/** The same for an entry of a shared item. */
const ENTRY_OVERHEAD = 128;

/** Rounds of `reads` before a projection is taken to be looping. */
const MAX_READ_ROUNDS = 5;

/**
 * Applies batches of events to a read model's document store: loads what the projection
 * reads (in bulk, once per batch), evolves in memory event by event, and writes each changed
 * document once at the end. A batch's events come in per-stream order (see the sequencer).
 *
 * `apply` does it for one batch. A rebuild folds many batches instead (`fold`) and writes
 * what they changed now and then (`flush`): a document many pages change is written once
 * per flush, and what the projection reads comes from what it folded before the store.
 */
export class Projector {
  /** What `fold` gathered since the last `flush`. */
  private folded: Folding;
  private readonly exclusive = new Mutex();
  private readonly flushes = new Mutex();

  /** What the flushes wrote, when the store started empty (`fresh`). */
  private readonly flushed: KeyFilter | undefined;

  constructor(
    readonly projection: Projection,
    readonly store: DocumentStore,
    options: {
      /**
       * The store holds nothing but what this projector's flushes write (a rebuild's new
       * generation, no other writer until it is built): a fold does not read a document no
       * flush wrote. Only `fold` and `flush` go by it; `apply` always reads.
       * @default false
       */
      readonly fresh?: boolean;
    } = {},
  ) {
    this.flushed = options.fresh ? new KeyFilter() : undefined;
    this.folded = new Folding(projection, store, { flushed: this.flushed });
  }

  /** Whether the read model reads this event (its type is one of the projection's). */
  reads(event: EventEnvelope): boolean {
    const types = this.projection.eventTypes;
    return types === '*' || types.includes(event.event_type);
  }

  /**
   * One batch, written before it resolves: each changed document once. Resolves to how many
   * of the events changed something (a repeat the read model ignores changes nothing).
   */
  async apply(events: readonly EventEnvelope[]): Promise<number> {
    const batch = new Folding(this.projection, this.store, { sized: false });
    await batch.fold(events);
    await batch.write();
    return batch.effective;
  }

  /**
   * Evolves the folded documents by these events, writing nothing: `flush` writes them.
   * Calls may overlap (pages of several scan segments); they take turns.
   */
  fold(events: readonly EventEnvelope[]): Promise<void> {
    return this.exclusive.run(() => this.folded.fold(events));
  }

  /**
   * Writes what the folds since the last flush changed (the documents not read first, the
   * ones read last, as `apply` does), then forgets it. Folds go on meanwhile, into a fresh
   * state that reads what the flushed one holds before the store (it is newer than the store
   * until written). `taken` runs at the moment the folded state is taken, no fold under way:
   * what the folds before it changed is written by this flush, what later ones change is not.
   * Flushes take turns.
   */
  flush(taken?: (empty: boolean) => void): Promise<void> {
    return this.flushes.run(async () => {
      const writing = await this.exclusive.run(async () => {
        const folded = this.folded;
        taken?.(folded.empty);
        this.folded = new Folding(this.projection, this.store, {
          previous: folded,
          flushed: this.flushed,
        });
        return folded;
      });
      await writing.write();
      // Written: the store holds what it held.
      this.folded.forget(writing);
    });
  }

  /**
   * About how much heap the folded state holds: the JSON length of the documents and entries
   * loaded and changed since the last flush, plus what each takes beyond it. A rebuild
   * flushes past a budget.
   */
  get foldedBytes(): number {
    return this.folded.bytes;
  }
}

/**
 * The documents of one or more batches: loaded, evolved, and the changes to write. Kept in
 * memory until `write`.
 */
class Folding {
  private readonly loaded = new Map<string, Doc | undefined>();
  /** The documents read from the store: the guards that say what a document has seen. */
  private readonly read = new Set<string>();
  private readonly changed = new Map<string, StoredDoc | DocKey>();
  /** Shared items' entries: per item, each entry's last value (undefined: removed). */
  private readonly entries = new Map<string, PendingEntries>();
  /** Documents to write last, with a new mark (`DocChanges.marks`). */
  private readonly marks = new Map<string, StoredDoc>();
  /** The bytes counted for each document loaded or changed (when `sized`). */
  private readonly sizes = new Map<string, number>();
  /** About how much heap this state holds (when `sized`; 0 otherwise). */
  bytes = 0;
  /** Events folded that changed something. */
  effective = 0;
  /** The state a flush is writing: newer than the store until written. */
  private previous: Folding | undefined;
  /** What flushes wrote into a store that started empty; absent: read every key. */
  private readonly flushed: KeyFilter | undefined;
  /**
   * Whether `bytes` is kept. A batch written at once (`apply`, the live consumers) is never
   * weighed, and weighing is a JSON serialization of every document it loads and changes.
   */
  private readonly sized: boolean;

  constructor(
    private readonly projection: Projection,
    private readonly store: DocumentStore,
    options: {
      readonly previous?: Folding;
      readonly flushed?: KeyFilter | undefined;
      /** @default true */
      readonly sized?: boolean;
    } = {},
  ) {
    this.previous = options.previous;
    this.flushed = options.flushed;
    this.sized = options.sized ?? true;
  }

  /** Once `previous` is written, the store has it. */
  forget(written: Folding): void {
    if (this.previous === written) this.previous = undefined;
  }

  get empty(): boolean {
    return this.changed.size === 0 && this.entries.size === 0 && this.marks.size === 0;
  }

  private remember(k: string, doc: Doc | undefined, weighed?: Map<Doc, number>): void {
    this.loaded.set(k, doc);
    if (!this.sized) return;
    let json = 0;
    if (doc !== undefined) {
      json = weighed?.get(doc) ?? JSON.stringify(doc).length;
      weighed?.set(doc, json);
    }
    const size = DOC_OVERHEAD + json;
    this.bytes += size - (this.sizes.get(k) ?? 0);
    this.sizes.set(k, size);
  }

  private async load(keys: readonly DocKey[]): Promise<void> {
    const previous = this.previous;
    const flushed = this.flushed;
    const notFolded = previous ? keys.filter((key) => !previous.holds(keyString(key))) : keys;
    // In a store that started empty, a key no flush wrote is not there: absent, unread.
    const fromStore = flushed
      ? notFolded.filter((key) => flushed.mayHold(keyString(key)))
      : notFolded;
    // What the flush under way holds is read from it; being read, it is a guard here too.
    if (previous)
      for (const key of keys) {
        const k = keyString(key);
        if (!previous.holds(k) || this.loaded.has(k)) continue;
        this.remember(k, withPending(previous.current(k), this.entries.get(k)));
        this.read.add(k);
      }
    const found = fromStore.length > 0 ? await this.store.getMany(fromStore) : new Map();
    for (const key of notFolded) {
      const k = keyString(key);
      // Another fold may have loaded (and changed) it meanwhile: what it holds is newer.
      if (this.loaded.has(k)) continue;
      // A shared item's entries changed without reading it are not in the store yet.
      this.remember(k, withPending(found.get(k), previous?.pending(k), this.entries.get(k)));
      this.read.add(k);
    }
  }

  /** Whether it has the document at `k` as it will be written (loaded or changed). */
  holds(k: string): boolean {
    return this.loaded.has(k);
  }

  /** The document at `k` as this state will leave it (for a key it `holds`). */
  current(k: string): Doc | undefined {
    return this.loaded.get(k);
  }

  /** Entries of the item at `k` set or removed without the item being read. */
  pending(k: string): PendingEntries | undefined {
    return this.entries.get(k);
  }

  async fold(events: readonly EventEnvelope[]): Promise<void> {
    const types = this.projection.eventTypes;
    const relevant = types === '*' ? undefined : new Set(types);
    const { loaded, changed, entries, marks } = this;
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
    const peek: DocView = { get: (key) => loaded.get(keyString(key)) };
    const mine = events.filter((e) => !relevant || relevant.has(e.event_type));
    // Load what the whole batch reads in bulk, a round per level of indirection; the loop
    // below then finds nearly everything loaded (it still loads what evolving revealed).
    for (let round = 0; round < MAX_READ_ROUNDS; round++) {
      const missing = mine
        .flatMap((e) => this.projection.reads(e, peek))
        .filter((key) => !loaded.has(keyString(key)));
      if (missing.length === 0) break;
      await this.load(unique(missing));
    }
    for (const event of mine) {
      for (let round = 0; ; round++) {
        const missing = this.projection
          .reads(event, peek)
          .filter((key) => !loaded.has(keyString(key)));
        if (missing.length === 0) break;
        if (round >= MAX_READ_ROUNDS)
          throw new Error(`projection ${this.projection.name} keeps asking for more documents`);
        await this.load(unique(missing));
      }
      const changes = this.projection.evolve(view, event);
      if (changes.put?.length || changes.delete?.length || changes.entries?.length)
        this.effective++;
      for (const key of changes.delete ?? []) {
        this.remember(keyString(key), undefined);
        changed.set(keyString(key), { pk: key.pk, sk: key.sk });
      }
      // One document put under several keys (a match's copies) is weighed once.
      const weighed = (changes.put?.length ?? 0) > 1 ? new Map<Doc, number>() : undefined;
      for (const put of changes.put ?? []) {
        this.remember(keyString(put), put.doc, weighed);
        changed.set(keyString(put), put);
      }
      for (const change of changes.entries ?? []) {
        const k = keyString(change);
        const item = entries.get(k) ?? { key: { pk: change.pk, sk: change.sk }, names: new Map() };
        entries.set(k, item);
        for (const name of change.remove ?? []) item.names.set(name, undefined);
        for (const [name, value] of Object.entries(change.set ?? {})) {
          item.names.set(name, value);
          if (this.sized) this.bytes += ENTRY_OVERHEAD + JSON.stringify(value).length;
        }
        // A later event sees the item as it will be written.
        const seen = loaded.get(k) as Record<string, Doc> | undefined;
        if (loaded.has(k)) loaded.set(k, withEntries(seen, change));
      }
      for (const mark of changes.marks ?? []) {
        const k = keyString(mark);
        if (this.sized && !marks.has(k))
          this.bytes += DOC_OVERHEAD + JSON.stringify(mark.doc).length;
        marks.set(k, mark);
      }
    }
    for (const k of entries.keys())
      if (changed.has(k))
        throw new Error(
          `projection ${this.projection.name} wrote ${k.replace('\u0000', '/')} both as a document and as entries`,
        );
    for (const k of marks.keys())
      if (changed.has(k) || entries.has(k) || loaded.has(k))
        throw new Error(
          `projection ${this.projection.name} marked ${k.replace('\u0000', '/')}, which it also reads or writes otherwise`,
        );
  }

  /**
   * A write of many documents is not atomic (BatchWriteItem is atomic per item, not as a
   * whole, and a write takes several calls in parallel): a process killed in the middle
   * leaves any subset of them written. The documents the projection read are what it
   * decides by ("this match is at version 3, skip"): written before the rest, a guard would
   * make the repeated batch skip the copies still missing. So the others go first and the
   * read ones last: until those land, a repeat redoes it all.
   * The same holds for shared items: an item read is a guard, written with the last. The
   * marks (`DocChanges.marks`) come after everything, so a new mark is never seen before what
   * it stands for. When a write fails, the marks are still tried before the failure goes on:
   * some of what they stand for may have landed, and a reader must not keep a sum without it
   * should the batch never be written whole (a batch dead-lettered).
   */
  async write(): Promise<void> {
    try {
      await this.writeChanges();
    } catch (error) {
      await this.writeMarks().catch(() => {});
      throw error;
    }
    await this.writeMarks();
  }

  private async writeChanges(): Promise<void> {
    const { changed, entries, read, flushed } = this;
    // Known before any of it lands: a key the filter may hold is read, one it lacks is not.
    if (flushed) {
      for (const key of changed.keys()) flushed.add(key);
      for (const key of entries.keys()) flushed.add(key);
    }
    const [derived, guards] = [new Changes(), new Changes()];
    for (const [key, change] of changed) (read.has(key) ? guards : derived).add(change);
    for (const [key, item] of entries) (read.has(key) ? guards : derived).addEntries(item);
    for (const phase of [derived, guards]) {
      // Both settled before a failure goes on: nothing of the phase still in flight after it.
      const settled = await Promise.allSettled([
        phase.puts.length + phase.deletes.length > 0
          ? this.store.write(phase.puts, phase.deletes)
          : undefined,
        phase.entries.length > 0 ? this.store.update(phase.entries) : undefined,
      ]);
      for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
    }
  }

  /** The marks, new ones at each write: last, once everything they stand for is written. */
  private async writeMarks(): Promise<void> {
    if (this.marks.size > 0) {
      const mark = randomUUID();
      await this.store.write(
        [...this.marks.values()].map((d) => ({ ...d, mark })),
        [],
      );
    }
  }
}

/** Documents to put and to delete, and entries to change, in one write. */
class Changes {
  readonly puts: StoredDoc[] = [];
  readonly deletes: DocKey[] = [];
  readonly entries: EntryChanges[] = [];

  add(change: StoredDoc | DocKey): void {
    if ('doc' in change) this.puts.push(change);
    else this.deletes.push(change);
  }

  addEntries(item: { key: DocKey; names: ReadonlyMap<string, Doc | undefined> }): void {
    const set: Record<string, Doc> = {};
    const remove: string[] = [];
    for (const [name, value] of item.names)
      if (value === undefined) remove.push(name);
      else set[name] = value;
    this.entries.push({ ...item.key, set, remove });
  }
}

/** A shared item's entries set (or removed: undefined) and not written yet. */
interface PendingEntries {
  readonly key: DocKey;
  readonly names: Map<string, Doc | undefined>;
}

/** A shared item as read from the store, with the entries not written yet applied. */
function withPending(
  stored: Doc | undefined,
  ...pending: readonly (PendingEntries | undefined)[]
): Doc | undefined {
  if (pending.every((p) => p === undefined)) return stored;
  const next: Record<string, Doc> = { ...((stored as Record<string, Doc> | undefined) ?? {}) };
  for (const p of pending)
    for (const [name, value] of p?.names ?? []) {
      if (value === undefined) delete next[name];
      else next[name] = value;
    }
  return next;
}

/** A shared item's entries once `change` is applied to them. */
function withEntries(
  current: Readonly<Record<string, Doc>> | undefined,
  change: EntryChanges,
): Record<string, Doc> {
  const next: Record<string, Doc> = { ...(current ?? {}) };
  for (const name of change.remove ?? []) delete next[name];
  for (const [name, value] of Object.entries(change.set ?? {})) next[name] = value;
  return next;
}

function unique(keys: readonly DocKey[]): DocKey[] {
  const seen = new Map<string, DocKey>();
  for (const key of keys) seen.set(keyString(key), key);
  return [...seen.values()];
}
