import { createRequire } from 'node:module';
import * as abstractLevel from 'abstract-level';
import { describe, expect, it } from 'vitest';
import {
  closeIteratorsOnReturn,
  levelIteratorsPatch,
} from '../../../stream/local/levelIterators.js';

/** dynalite's own store module: its LevelDB, and the streams its Query and Scan read. */
interface DynaliteDb {
  create(options: object): {
    db: {
      put(key: string, value: unknown): Promise<void>;
      values(options: object): { next(): Promise<unknown> };
      createValueStream(options: object): NodeJS.ReadableStream;
    };
  };
  lazy(stream: NodeJS.ReadableStream): {
    takeWhile(keep: (value: unknown) => boolean): { join(done: (values: unknown[]) => void): void };
  };
}
const dynaliteDb = createRequire(import.meta.url)('dynalite/db') as DynaliteDb;

/** Reads as dynalite's Query does (a lazy stream, stopped after `limit` values); the iterator. */
async function query(limit: number) {
  const { db } = dynaliteDb.create({});
  for (const key of ['a', 'b', 'c']) await db.put(key, { key });
  let iterator: { next(): Promise<unknown> } | undefined;
  const values = db.values.bind(db);
  db.values = (options) => {
    iterator = values(options);
    return iterator;
  };
  let count = 0;
  const read = await new Promise<unknown[]>((resolve) =>
    dynaliteDb
      .lazy(db.createValueStream({}))
      .takeWhile(() => count++ < limit)
      .join(resolve),
  );
  // The stream closes its iterator on the next turns once it ended or was stopped.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const after = await iterator?.next().then(
    () => 'open',
    (error: { code?: string }) => error.code,
  );
  return { read, after };
}

describe("dynalite's LevelDB iterators", () => {
  it('close when a Query reads to the end or stops early', async () => {
    closeIteratorsOnReturn(abstractLevel);

    const whole = await query(10);
    const first = await query(1);

    expect(whole).toEqual({
      read: [{ key: 'a' }, { key: 'b' }, { key: 'c' }],
      after: 'LEVEL_ITERATOR_NOT_OPEN',
    });
    expect(first).toEqual({ read: [{ key: 'a' }], after: 'LEVEL_ITERATOR_NOT_OPEN' });
  });

  it('are patched in a server thread from the same source and module', () => {
    const patch = levelIteratorsPatch();

    expect(createRequire(import.meta.url)(patch.module)).toBe(
      createRequire(createRequire(import.meta.url).resolve('dynalite'))('abstract-level'),
    );
    // The source runs on its own, as the thread runs it.
    const patched = { prototype: {} as { return?: unknown } };
    const run = new Function(`return (${patch.source})`)() as (level: object) => void;
    run({
      AbstractIterator: patched,
      AbstractKeyIterator: { prototype: {} },
      AbstractValueIterator: { prototype: {} },
    });
    expect(typeof patched.prototype.return).toBe('function');
  });
});
