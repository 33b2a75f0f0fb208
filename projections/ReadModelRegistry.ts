import type { DocumentStore } from './DocumentStore.js';
import type { Projection } from './Projection.js';

/** How the local tables of every read model begin. */
export const READ_MODEL_TABLE_PREFIX = 'matchstream-rm-';

/** The table of a read model version, e.g. `matchstream-rm-standings-v1`. */
export function readModelTable(projection: Pick<Projection, 'name' | 'version'>): string {
  return `${READ_MODEL_TABLE_PREFIX}${projection.name}-v${projection.version}`;
}

/** The registry table's default name. */
export const REGISTRY_TABLE = 'matchstream-projections';

export type GenerationStatus = 'building' | 'live' | 'dropped';

/** One build of a read model: its own table, fed by its own consumer once built. */
export interface Generation {
  readonly generation: number;
  readonly table: string;
  /** The projection's version (its code) when it was built. */
  readonly projection_version: number;
  readonly status: GenerationStatus;
  readonly created_at: string;
  readonly built_at: string | null;
  readonly dropped_at: string | null;
}

/** A read model's generations and which one the queries read. */
export interface ReadModelEntry {
  readonly name: string;
  readonly active: number;
  readonly activated_at: string | null;
  readonly generations: readonly Generation[];
}

/** The consumer (and positions) that feeds a generation other than the first. */
export function generationConsumer(name: string, generation: number): string {
  return `read-model:${name}:g${generation}`;
}

/** The table of a generation: the first keeps the plain versioned name. */
export function generationTable(
  projection: Pick<Projection, 'name' | 'version'>,
  generation: number,
) {
  const base = readModelTable(projection);
  return generation === 1 ? base : `${base}-g${generation}`;
}

const key = (name: string) => ({ pk: 'read-model', sk: name });

/**
 * Which generation of each read model is active, in one document per read model: switching
 * is one write, so readers see the old generation or the new one, never a mix. A read model
 * never rebuilt has one generation, the first, active.
 */
export class ReadModelRegistry {
  /**
   * @param firstTable the table of a read model's first generation, for a read model the
   *   registry does not list yet: by default the versioned local name (`generationTable`); on
   *   AWS the table the stack made for it.
   */
  constructor(
    private readonly store: DocumentStore,
    private readonly firstTable: (projection: Pick<Projection, 'name' | 'version'>) => string = (
      projection,
    ) => generationTable(projection, 1),
  ) {}

  async entry(projection: Pick<Projection, 'name' | 'version'>): Promise<ReadModelEntry> {
    const k = key(projection.name);
    const found = (await this.store.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as
      | ReadModelEntry
      | undefined;
    return (
      found ?? {
        name: projection.name,
        active: 1,
        activated_at: null,
        generations: [
          {
            generation: 1,
            table: this.firstTable(projection),
            projection_version: projection.version,
            status: 'live',
            created_at: new Date().toISOString(),
            built_at: null,
            dropped_at: null,
          },
        ],
      }
    );
  }

  /**
   * Records a read model seen for the first time (its first generation, named after the
   * projection's version now), so that a later version of the code still finds its table.
   */
  async ensure(projection: Pick<Projection, 'name' | 'version'>): Promise<ReadModelEntry> {
    const k = key(projection.name);
    const found = (await this.store.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as
      | ReadModelEntry
      | undefined;
    if (found) return found;
    const entry = await this.entry(projection);
    await this.save(entry);
    return entry;
  }

  /** The generation the queries read. */
  async active(projection: Pick<Projection, 'name' | 'version'>): Promise<Generation> {
    const entry = await this.entry(projection);
    const active = entry.generations.find((g) => g.generation === entry.active);
    if (!active)
      throw new Error(
        `read model ${projection.name}: active generation ${entry.active} is not listed`,
      );
    return active;
  }

  /**
   * The generation being built, or a new one, its table named by `tableOf` (by default
   * `generationTable`, after the projection's version).
   */
  async building(
    projection: Pick<Projection, 'name' | 'version'>,
    tableOf: (generation: number) => string = (n) => generationTable(projection, n),
  ): Promise<Generation> {
    const entry = await this.entry(projection);
    const unfinished = entry.generations.find((g) => g.status === 'building');
    if (unfinished) return unfinished;
    const number = Math.max(...entry.generations.map((g) => g.generation)) + 1;
    const generation: Generation = {
      generation: number,
      table: tableOf(number),
      projection_version: projection.version,
      status: 'building',
      created_at: new Date().toISOString(),
      built_at: null,
      dropped_at: null,
    };
    await this.save({ ...entry, generations: [...entry.generations, generation] });
    return generation;
  }

  /** One generation of a read model, listed or not. */
  async generation(
    projection: Pick<Projection, 'name' | 'version'>,
    generation: number,
  ): Promise<Generation | undefined> {
    return (await this.entry(projection)).generations.find((g) => g.generation === generation);
  }

  /** A built generation goes live: fed from the stream and, with `activate`, read by queries. */
  async markBuilt(
    projection: Pick<Projection, 'name' | 'version'>,
    generation: number,
    activate: boolean,
  ): Promise<ReadModelEntry> {
    const entry = await this.entry(projection);
    const now = new Date().toISOString();
    const next: ReadModelEntry = {
      ...entry,
      ...(activate ? { active: generation, activated_at: now } : {}),
      generations: entry.generations.map((g) =>
        g.generation === generation ? { ...g, status: 'live', built_at: now } : g,
      ),
    };
    await this.save(next);
    return next;
  }

  /** Makes a live generation the one queries read. */
  async activate(projection: Pick<Projection, 'name' | 'version'>, generation: number) {
    const entry = await this.entry(projection);
    const target = entry.generations.find((g) => g.generation === generation);
    if (target?.status !== 'live')
      throw new Error(`read model ${projection.name} has no live generation ${generation}`);
    await this.save({ ...entry, active: generation, activated_at: new Date().toISOString() });
  }

  /** Marks a generation dropped (its table is deleted by the caller); never the active one. */
  async markDropped(projection: Pick<Projection, 'name' | 'version'>, generation: number) {
    const entry = await this.entry(projection);
    if (entry.active === generation)
      throw new Error(
        `generation ${generation} of ${projection.name} is the active one; activate another first`,
      );
    const target = entry.generations.find((g) => g.generation === generation);
    if (!target || target.status === 'dropped')
      throw new Error(`read model ${projection.name} has no generation ${generation} to drop`);
    await this.save({
      ...entry,
      generations: entry.generations.map((g) =>
        g.generation === generation
          ? { ...g, status: 'dropped', dropped_at: new Date().toISOString() }
          : g,
      ),
    });
    return target;
  }

  private async save(entry: ReadModelEntry): Promise<void> {
    await this.store.write([{ ...key(entry.name), doc: entry }], []);
  }
}
