import { describe, expect, it } from 'vitest';
import { dynalitesDb } from '../../../stream/local/dynaliteKeys.js';
import { dynaliteTablePatches, tablesKept } from '../../../stream/local/dynaliteTables.js';
import { freshModule } from '../../support/freshModule.js';

type Callback = (error: unknown, table?: { TableStatus: string; KeySchema?: unknown }) => void;
interface Store {
  getTable(name: string, checkStatus: boolean | Callback, cb?: Callback): void;
  tableDb: {
    get(key: string, cb: (error: unknown, value?: unknown) => void): void;
    put(key: string, value: unknown, cb: (error?: unknown) => void): void;
    del(key: string, cb: (error?: unknown) => void): void;
  };
  lifecycleManager: { forceClose(cb: () => void): void };
}
interface Db {
  create(options: object): Store;
}

/** A store in memory from a copy of dynalite's `db` module with the patch, counting its reads of descriptions. */
function patchedStore(): { store: Store; reads: () => number } {
  const db = freshModule<Db>(dynalitesDb());
  tablesKept(db as unknown as Parameters<typeof tablesKept>[0]);
  const store = db.create({});
  let reads = 0;
  const get = store.tableDb.get;
  store.tableDb.get = (key, cb) => {
    reads++;
    get(key, cb);
  };
  return { store, reads: () => reads };
}

const described = (status: string, keys: string[] = ['pk']) => ({
  TableName: 't',
  TableStatus: status,
  KeySchema: keys.map((k) => ({ AttributeName: k })),
});
const put = (store: Store, value: unknown) =>
  new Promise<void>((resolve, reject) =>
    store.tableDb.put('t', value, (e) => (e ? reject(e) : resolve())),
  );
/** What an item operation is given (it asks with a status check). */
const forItems = (store: Store, name = 't') =>
  new Promise<{ error?: { body?: { __type?: string } }; table?: unknown }>((resolve) =>
    store.getTable(name, (error, table) => resolve({ error: error as never, table })),
  );

describe("dynalite's table descriptions kept for item operations", () => {
  it('reads a description once for the item operations after it', async () => {
    const { store, reads } = patchedStore();
    await put(store, described('ACTIVE'));
    const first = await forItems(store);
    const second = await forItems(store);
    expect(first.table).toEqual(described('ACTIVE'));
    expect(second.table).toBe(first.table);
    expect(reads()).toBe(1);
  });

  it('sees every write of the description: a table deleted, then made again', async () => {
    const { store } = patchedStore();
    await put(store, described('ACTIVE'));
    await forItems(store);
    await put(store, described('DELETING'));
    expect((await forItems(store)).error?.body?.__type).toMatch(/ResourceNotFoundException/);
    await new Promise<void>((resolve) => store.tableDb.del('t', () => resolve()));
    expect((await forItems(store)).error?.body?.__type).toMatch(/ResourceNotFoundException/);
    await put(store, described('ACTIVE', ['pk', 'sk']));
    expect((await forItems(store)).table).toEqual(described('ACTIVE', ['pk', 'sk']));
  });

  it('keeps nothing a write overlapped', async () => {
    const { store, reads } = patchedStore();
    await put(store, described('ACTIVE'));
    // A read that has its answer (the old description) but gives it only after a write.
    const get = store.tableDb.get;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    store.tableDb.get = (key, cb) =>
      get(key, (error, value) => {
        void held.then(() => cb(error, value));
      });
    const reading = forItems(store);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await put(store, described('ACTIVE', ['pk', 'sk']));
    release();
    expect((await reading).table).toEqual(described('ACTIVE'));
    store.tableDb.get = get;
    expect((await forItems(store)).table).toEqual(described('ACTIVE', ['pk', 'sk']));
    expect(reads()).toBe(2);
  });

  it('leaves the operations on tables, and tables not found, to LevelDB every time', async () => {
    const { store, reads } = patchedStore();
    await put(store, described('ACTIVE'));
    for (let i = 0; i < 3; i++)
      await new Promise<void>((resolve) => store.getTable('t', false, () => resolve()));
    expect(reads()).toBe(3);
    await forItems(store, 'absent');
    await forItems(store, 'absent');
    expect(reads()).toBe(5);
  });

  it('runs from its source text, as a server thread runs it, once per module', () => {
    const db = freshModule<Db>(dynalitesDb());
    const [patch] = dynaliteTablePatches();
    expect(patch?.module).toBe(dynalitesDb());
    const apply = new Function(`return (${patch?.source})`)() as (db: Db) => void;
    apply(db);
    const patched = db.create;
    apply(db);
    expect(db.create).toBe(patched);
  });
});
