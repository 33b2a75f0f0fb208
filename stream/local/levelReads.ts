import { createRequire } from 'node:module';

/** What of classic-level `readInPlace` patches. */
interface ClassicLevelModule {
  readonly ClassicLevel: { readonly prototype: object };
}

interface Reader {
  _get(key: unknown, options: object): Promise<unknown>;
  _getSync?(key: unknown, options: object): unknown;
}

/**
 * dynalite reads an item before it answers a GetItem or BatchGetItem and before each write
 * (the condition, the old image, the indexes): two thirds of its LevelDB calls are reads.
 * classic-level 3 runs each read on libuv's thread pool, and takes the read's snapshot first,
 * on the calling thread, under LevelDB's lock, which the pool's writes hold: in a CPU profile
 * of `matchstream start` on 330 teams, dynalite's thread spent 3.9 s of 14 inside `_get`
 * (bench/README.md, "Reads in place"). This makes a read run where it is asked for, with the
 * same snapshot semantics (the state when the read is asked for) and the same results, as
 * classic-level's own `getSync`. On dynalite's thread it blocks nothing but dynalite, which
 * answers one request at a time anyway. An older classic-level without `_getSync` is left alone.
 *
 * Self-contained on purpose: a server thread runs its source text (`levelReadsPatch`).
 */
export function readInPlace(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Reader;
  if (typeof prototype._getSync !== 'function') return;
  prototype._get = async function (this: Required<Reader>, key: unknown, options: object) {
    return this._getSync(key, options);
  };
}

/** The patch as a server thread takes it: the function's source and the module it is given. */
export function levelReadsPatch(): { readonly source: string; readonly module: string } {
  return { source: readInPlace.toString(), module: dynalitesClassicLevel() };
}

/** The classic-level dynalite stores in (through `level`). */
export function dynalitesClassicLevel(): string {
  const dynalite = createRequire(import.meta.url).resolve('dynalite');
  const level = createRequire(dynalite).resolve('level');
  return createRequire(level).resolve('classic-level');
}
