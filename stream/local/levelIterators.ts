import { createRequire } from 'node:module';
import type { ModulePatch } from './modulePatches.js';

/** What of abstract-level `closeIteratorsOnReturn` patches. */
interface IteratorClasses {
  readonly AbstractIterator: { readonly prototype: object };
  readonly AbstractKeyIterator: { readonly prototype: object };
  readonly AbstractValueIterator: { readonly prototype: object };
}

/**
 * dynalite answers a Query or Scan from a stream over a LevelDB iterator (abstract-level 3,
 * under `level` 10), and ends it by calling the iterator's `return()` when the stream ends or
 * stops early. Those iterators have no `return()`, only `close()`: every Query and Scan left
 * its iterator open, with the snapshot it holds, until the database closed. With dynalite on
 * disk, 10,000 queries of one item each grew the process by about 180 MB, and a 2,000-team
 * season through `matchstream start` reached 3.6 GB. This gives the iterators a `return()`
 * that closes them.
 *
 * Self-contained on purpose: a server thread runs its source text (`levelIteratorsPatch`).
 */
export function closeIteratorsOnReturn(level: IteratorClasses): void {
  for (const kind of [
    level.AbstractIterator,
    level.AbstractKeyIterator,
    level.AbstractValueIterator,
  ]) {
    const prototype = kind.prototype as { return?: () => Promise<void> };
    if (prototype.return === undefined)
      prototype.return = function (this: { close(): Promise<void> }) {
        return this.close();
      };
  }
}

/** The patch as a server thread takes it: the function's source and the module it is given. */
export function levelIteratorsPatch(): ModulePatch {
  // The abstract-level dynalite loads (through `level` and `classic-level`).
  const module = createRequire(import.meta.url).resolve('abstract-level');
  return { source: closeIteratorsOnReturn.toString(), module };
}
