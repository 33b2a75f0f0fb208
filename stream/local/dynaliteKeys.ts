import { dependencyModule, forThread, inProcess, type ModulePatch } from './modulePatches.js';

type AttributeValue = Record<string, unknown>;
interface Table {
  readonly KeySchema: readonly { readonly AttributeName: string }[];
}

/** What of dynalite's `db` module (`dynalite/db/index.js`) the patch below uses and replaces. */
interface DynaliteDb {
  createKey(
    item: Record<string, AttributeValue>,
    table: Table,
    keySchema?: Table['KeySchema'],
  ): string;
  hashPrefix(hashKey: unknown, hashType: string): string;
  toRangeStr(keyPiece: unknown, type: string): string;
  traverseKey(
    table: Table,
    keySchema: Table['KeySchema'],
    visit: (attr: string, type: string, isHash: boolean) => unknown,
  ): unknown;
}

/**
 * dynalite stores an item under a key that starts with an MD5 digest of its partition key's
 * value (to spread items as DynamoDB's partitions do) followed by the value in hex, and builds
 * it again for every request on the item: a read, the write after it, the relay's write-back
 * of a commit. In a CPU profile of `matchstream start` (1,000 teams) building keys took 0.74 s
 * of the 8.6 s dynalite's thread was busy, most of it the digest (bench/README.md, "Fewer CPU
 * cycles for the embedded pipeline"). This keeps the start of the key (digest and value) for
 * the partition keys it saw last (at most 10,000, about 3 MB; all dropped past that) and
 * builds the rest as dynalite does: the same keys, from the same pieces.
 *
 * Self-contained on purpose: a server thread runs its source text (`dynaliteKeyPatches`).
 */
export function keysOfSeenPartitions(db: DynaliteDb): void {
  const marked = db as DynaliteDb & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.keysOfSeenPartitions');
  if (marked[patched]) return;
  marked[patched] = true;
  const { hashPrefix, toRangeStr, traverseKey } = db;
  const seen = new Map<string, string>();
  const startOf = (value: unknown, type: string): string => {
    if (typeof value !== 'string') return `${hashPrefix(value, type)}/${toRangeStr(value, type)}/`;
    const name = `${type}:${value}`;
    let start = seen.get(name);
    if (start === undefined) {
      start = `${hashPrefix(value, type)}/${toRangeStr(value, type)}/`;
      if (seen.size >= 10_000) seen.clear();
      seen.set(name, start);
    }
    return start;
  };
  db.createKey = (item, table, keySchema) => {
    let key = '';
    traverseKey(table, keySchema ?? table.KeySchema, (attr, type, isHash) => {
      const value = (item[attr] as AttributeValue)[type];
      key = isHash ? startOf(value, type) : `${key}${toRangeStr(value, type)}/`;
    });
    return key;
  };
}

/** The patch as a server thread takes it: its source and dynalite's `db` module. */
export const dynaliteKeyPatches = (): readonly ModulePatch[] => [
  forThread(keysOfSeenPartitions, dynalitesDb()),
];

/** The patch, in this process. */
export const patchDynaliteKeys = (): void => inProcess(keysOfSeenPartitions, dynalitesDb());

/** The path of dynalite's `db` module. */
export const dynalitesDb = (): string => dependencyModule('dynalite', './db');
