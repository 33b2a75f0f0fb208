import { createRequire } from 'node:module';

/** What of classic-level the patches below change. */
interface ClassicLevelModule {
  readonly ClassicLevel: { readonly prototype: object };
}

interface Reader {
  _get(key: unknown, options: object): Promise<unknown>;
  _getSync?(key: unknown, options: object): unknown;
}

interface Opener {
  _open(options: { writeBufferSize?: number }): Promise<void>;
}

/**
 * dynalite reads from LevelDB for every item it serves, and before every item it writes (the
 * table's description, then the item: the condition, the old image, the indexes).
 * classic-level 3 runs each read on libuv's thread pool, and takes the read's snapshot first,
 * on the calling thread, under LevelDB's lock, which the pool's writes take too: in a CPU profile
 * of `matchstream start` on 330 teams, dynalite's thread spent 3.9 s of 14 inside `_get`
 * (bench/README.md, "Reads in place"). This makes a read run where it is asked for, with the
 * same snapshot semantics (the state when the read is asked for) and the same results, as
 * classic-level's own `getSync`. On dynalite's thread it blocks nothing but dynalite, which
 * answers one request at a time anyway. An older classic-level without `_getSync` is left alone.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function readInPlace(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Reader;
  if (typeof prototype._getSync !== 'function') return;
  prototype._get = async function (this: Required<Reader>, key: unknown, options: object) {
    return this._getSync(key, options);
  };
}

/**
 * LevelDB writes its memory table to a new level-0 file each time it reaches the write buffer
 * (classic-level's default: 4 MB), and compacts those files into the levels below on a
 * thread of its own. dynalite opens its store with the default, so a 3,000-team season
 * through `matchstream start` flushed 128 files and compacted 1,060 MB for a 52 MB store, on
 * the same two cores as the pipeline. With 32 MB it flushed 16 and compacted 205 MB
 * (bench/README.md, "Reads in place"). The memory table (and the one being flushed) can hold
 * up to twice that; a write buffer the opener names is kept.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function largerWriteBuffer(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Opener & Record<symbol, unknown>;
  // Once: a process starts many in-process dynalites.
  const patched = Symbol.for('matchstream.largerWriteBuffer');
  if (prototype[patched]) return;
  prototype[patched] = true;
  const open = prototype._open;
  prototype._open = function (this: Opener, options) {
    return open.call(this, { ...options, writeBufferSize: options.writeBufferSize ?? 32 << 20 });
  };
}

/** The patches as a server thread takes them: each function's source and the module it is given. */
export function classicLevelPatches(): readonly {
  readonly source: string;
  readonly module: string;
}[] {
  const module = dynalitesClassicLevel();
  return [readInPlace, largerWriteBuffer].map((patch) => ({ source: patch.toString(), module }));
}

/** Both patches, in this process. */
export function patchClassicLevel(level: ClassicLevelModule): void {
  readInPlace(level);
  largerWriteBuffer(level);
}

/** The classic-level dynalite stores in (through `level`). */
export function dynalitesClassicLevel(): string {
  const dynalite = createRequire(import.meta.url).resolve('dynalite');
  const level = createRequire(dynalite).resolve('level');
  return createRequire(level).resolve('classic-level');
}
