import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DocumentStore } from './DocumentStore.js';
import { type Doc, type DocKey, keyString, type StoredDoc } from './Projection.js';
import { ProjectionError } from './ProjectionError.js';

/**
 * Entries of a list per part. A team's line of a calculation takes about 275 bytes as JSON and
 * 50 gzipped, so a part of 1,000 lines is an item of about 50 KB (the document stores gzip
 * past 64 KB), an eighth of DynamoDB's 400 KB: room for names ten times as long. Kept whole,
 * the rankings of about 8,000 teams filled an item.
 */
export const ENTRIES_PER_PART = 1_000;

/** The head's attribute that says where its list is. */
const MARKER = '_parts';

/** Where a head's list is: `count` parts holding `entries` entries of `field`. */
interface PartsMarker {
  readonly field: string;
  readonly count: number;
  readonly entries: number;
  readonly token: string;
}

/** A document's list, in parts or not. */
export interface PartedOptions {
  /** The document's list that may outgrow an item. */
  readonly field: string;
  /** @default ENTRIES_PER_PART */
  readonly perPart?: number;
  /**
   * Names this version's parts (keys `<sk>#part#<token>#<n>`). A document whose list never
   * changes may name them after what it is (a projection's event sequence); one that is
   * rewritten takes a fresh token per write, so a reader never mixes two versions' parts.
   * @default when it was made and a random part (`writtenToken`)
   */
  readonly token?: string;
  /** Epoch seconds after which the head and its parts may go (DynamoDB TTL). */
  readonly expiresAt?: number;
}

function markerOf(doc: Doc | undefined): PartsMarker | undefined {
  const marker = (doc as Record<string, unknown> | undefined)?.[MARKER];
  return marker && typeof marker === 'object' ? (marker as PartsMarker) : undefined;
}

function partKey(key: DocKey, token: string, n: number): DocKey {
  return { pk: key.pk, sk: `${key.sk}#part#${token}#${String(n).padStart(5, '0')}` };
}

function partKeys(key: DocKey, marker: PartsMarker): DocKey[] {
  return Array.from({ length: marker.count }, (_, n) => partKey(key, marker.token, n));
}

/**
 * A token that says when its parts were written (milliseconds, base 36) and tells two writers
 * of the same moment apart: `<time>-<4 hex digits>`.
 */
export function writtenToken(now: number): string {
  return `${now.toString(36)}-${randomUUID().slice(0, 4)}`;
}

/** When parts of this token were written; undefined for a token that does not say. */
function tokenTime(token: string): number | undefined {
  const match = /^([0-9a-z]+)-[0-9a-f]{4}$/.exec(token);
  return match?.[1] ? Number.parseInt(match[1], 36) : undefined;
}

/**
 * How long parts no head names are left alone: their writer may still be on its way to its
 * head (a Lambda function runs at most 15 minutes).
 */
export const STRAY_PARTS_GRACE_MS = 15 * 60_000;

/** A head without its marker: the document's other fields, for a summary of it. */
export function withoutParts<T extends Doc>(doc: T): T {
  if (!markerOf(doc)) return doc;
  const { [MARKER]: _, ...rest } = doc as Record<string, unknown>;
  return rest as T;
}

/**
 * A document as the items that hold it, the parts first and the head last: the document
 * whole when its list fits one part (as documents of earlier releases were stored), else a
 * head without the list, naming its parts, and the list in parts of `perPart` entries.
 */
export function partedDocs(key: DocKey, doc: Doc, options: PartedOptions): StoredDoc[] {
  const list = (doc as Record<string, unknown>)[options.field];
  const perPart = options.perPart ?? ENTRIES_PER_PART;
  const expiry = options.expiresAt !== undefined ? { expires_at: options.expiresAt } : {};
  if (!Array.isArray(list) || list.length <= perPart) return [{ ...key, doc, ...expiry }];
  const token = options.token ?? writtenToken(Date.now());
  const items: StoredDoc[] = [];
  for (let start = 0; start < list.length; start += perPart)
    items.push({
      ...partKey(key, token, items.length),
      doc: { entries: list.slice(start, start + perPart) },
      ...expiry,
    });
  const { [options.field]: _, ...head } = doc as Record<string, unknown>;
  const marker: PartsMarker = {
    field: options.field,
    count: items.length,
    entries: list.length,
    token,
  };
  items.push({ ...key, doc: { ...head, [MARKER]: marker }, ...expiry });
  return items;
}

/**
 * The documents at these keys, each with its list put back together (absent keys are absent
 * from the map, by `keyString`). A head found without all of its parts is read again after a
 * moment, a few times: a writer that replaced it deleted the parts it replaced, or the parts
 * of a head written with them are still on their way. A head whose parts stay missing is an
 * error that names it.
 */
export async function readPartedMany(
  store: DocumentStore,
  keys: readonly DocKey[],
): Promise<Map<string, Doc>> {
  const out = new Map<string, Doc>();
  let pending = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const heads = await store.getMany(pending);
    const parted: { key: DocKey; head: Doc; marker: PartsMarker }[] = [];
    for (const key of pending) {
      const head = heads.get(keyString(key));
      const marker = markerOf(head);
      if (!head) continue;
      if (!marker) out.set(keyString(key), head);
      else parted.push({ key, head, marker });
    }
    if (parted.length === 0) break;
    const parts = await store.getMany(parted.flatMap(({ key, marker }) => partKeys(key, marker)));
    const incomplete: { key: DocKey; missing: number }[] = [];
    for (const { key, head, marker } of parted) {
      const list: unknown[] = [];
      let missing = 0;
      for (const k of partKeys(key, marker)) {
        const part = parts.get(keyString(k)) as { entries?: unknown[] } | undefined;
        if (part?.entries) list.push(...part.entries);
        else missing++;
      }
      if (missing === 0 && list.length === marker.entries)
        out.set(keyString(key), { ...withoutParts(head), [marker.field]: list });
      else incomplete.push({ key, missing });
    }
    if (incomplete.length > 0 && attempt >= READ_ATTEMPTS - 1) {
      const first = incomplete[0] as { key: DocKey; missing: number };
      throw new ProjectionError(
        'NOT_FOUND',
        `document ${first.key.pk}/${first.key.sk} names parts that are not there (${first.missing} missing, read ${READ_ATTEMPTS} times)${incomplete.length > 1 ? `, and ${incomplete.length - 1} more documents` : ''}`,
      );
    }
    pending = incomplete.map(({ key }) => key);
    if (pending.length > 0) await sleep(READ_PAUSE_MS * 2 ** attempt);
  }
  return out;
}

/** Reads of a head whose parts are missing, and the first pause between them (doubling). */
const READ_ATTEMPTS = 4;
const READ_PAUSE_MS = 50;

/** One document with its list put back together; undefined when absent. */
export async function readParted(store: DocumentStore, key: DocKey): Promise<Doc | undefined> {
  return (await readPartedMany(store, [key])).get(keyString(key));
}

/**
 * Writes a document that replaces whatever is at its key: its parts, then its head, then the
 * parts of the head it replaced. A reader sees the old document or the new one, whole. Two
 * writers at once may leave the parts of one of them behind (never a head without its parts),
 * as may a write that stopped between its parts and its head: each write then deletes the
 * parts at its key that no head names and that were written more than
 * `STRAY_PARTS_GRACE_MS` before (one Query of the key's parts), so what a race or a crash left
 * goes with the next write of the document. With `replacing: null` (a key the caller knows
 * to be new) it looks for none.
 */
export async function writeParted(
  store: DocumentStore,
  key: DocKey,
  doc: Doc,
  options: PartedOptions & {
    /**
     * What the caller just read at the key, as stored (`null`: nothing), so it is not read
     * again. @default read here
     */
    readonly replacing?: Doc | null;
  },
): Promise<void> {
  const stored =
    options.replacing !== undefined
      ? (options.replacing ?? undefined)
      : (await store.getMany([key])).get(keyString(key));
  const before = markerOf(stored);
  const items = partedDocs(key, doc, options);
  const head = items.pop() as StoredDoc;
  if (items.length > 0) await store.write(items, []);
  await store.write([head], []);
  const now = markerOf(head.doc);
  if (before && before.token !== now?.token) await store.write([], partKeys(key, before));
  if (options.replacing !== null) await deleteStrayParts(store, key, now?.token);
}

/** Deletes the parts at a key that are not `current`'s and were written before the grace. */
async function deleteStrayParts(
  store: DocumentStore,
  key: DocKey,
  current: string | undefined,
): Promise<void> {
  const prefix = `${key.sk}#part#`;
  const oldest = Date.now() - STRAY_PARTS_GRACE_MS;
  const stray = (await store.query(key.pk, { prefix })).filter((part) => {
    const token = part.sk.slice(prefix.length, part.sk.lastIndexOf('#'));
    const written = tokenTime(token);
    return token !== current && written !== undefined && written < oldest;
  });
  if (stray.length > 0)
    await store.write(
      [],
      stray.map((part) => ({ pk: part.pk, sk: part.sk })),
    );
}

/** Deletes a document: its head, then the parts it named. */
export async function deleteParted(store: DocumentStore, key: DocKey): Promise<void> {
  await deletePartedMany(store, [key]);
}

/** Deletes documents: their heads, then the parts they named. */
export async function deletePartedMany(
  store: DocumentStore,
  keys: readonly DocKey[],
): Promise<void> {
  const heads = await store.getMany(keys);
  await store.write([], keys);
  const parts = keys.flatMap((key) => {
    const marker = markerOf(heads.get(keyString(key)));
    return marker ? partKeys(key, marker) : [];
  });
  if (parts.length > 0) await store.write([], parts);
}
