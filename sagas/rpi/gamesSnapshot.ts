import type { Game } from '../../domain/games/Game.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import type { StoredDoc } from '../../projections/Projection.js';

/**
 * Games per part of a snapshot. A part is one item of the saga's working table, which holds
 * at most 400 KB (gzipped by the document store): a generated season's games take about 19
 * bytes each gzipped (61,800 games of 6,000 teams: 1,147,498 bytes), so a part of 5,000 takes
 * about 95 KB, a quarter of the limit, leaving room for longer names. Kept whole, one item
 * held the games of about 2,150 teams playing 20 games each.
 */
export const GAMES_PER_PART = 5_000;

/** What `collect_matches` keeps for `calculate_rpi`: the games, and the conferences then. */
export interface GamesSnapshot {
  readonly games: readonly Game[];
  readonly conferences?: Record<string, string>;
}

/**
 * The snapshot's head: how many parts it has (and the conferences). A snapshot written by
 * an earlier release holds its games in the head itself.
 */
interface SnapshotHead {
  readonly parts?: number;
  readonly games_count?: number;
  readonly games?: Game[];
  readonly conferences?: Record<string, string>;
}

const headKey = (sagaId: string) => ({ pk: `saga#${sagaId}`, sk: 'games' });
const partKey = (sagaId: string, part: number) => ({
  pk: `saga#${sagaId}`,
  sk: `games#${String(part).padStart(5, '0')}`,
});

/**
 * Writes a saga's snapshot of the games: the parts first, the head last, so a head found
 * means every part was written (a retry writes them all again, the same).
 */
export async function writeGamesSnapshot(
  store: DocumentStore,
  sagaId: string,
  snapshot: GamesSnapshot,
  expiresAt: number,
): Promise<void> {
  const parts: StoredDoc[] = [];
  for (let start = 0; start < snapshot.games.length; start += GAMES_PER_PART)
    parts.push({
      ...partKey(sagaId, parts.length),
      doc: { games: snapshot.games.slice(start, start + GAMES_PER_PART) },
      expires_at: expiresAt,
    });
  await store.write(parts, []);
  const head: SnapshotHead = {
    parts: parts.length,
    games_count: snapshot.games.length,
    ...(snapshot.conferences ? { conferences: snapshot.conferences } : {}),
  };
  await store.write([{ ...headKey(sagaId), doc: head, expires_at: expiresAt }], []);
}

/** A saga's snapshot of the games, whole; undefined when it is gone (or was never written). */
export async function readGamesSnapshot(
  store: DocumentStore,
  sagaId: string,
): Promise<GamesSnapshot | undefined> {
  const key = headKey(sagaId);
  const head = (await store.getMany([key])).get(`${key.pk}\u0000${key.sk}`) as
    | SnapshotHead
    | undefined;
  if (!head) return undefined;
  const conferences = head.conferences ? { conferences: head.conferences } : {};
  if (head.games) return { games: head.games, ...conferences };
  const keys = Array.from({ length: head.parts ?? 0 }, (_, i) => partKey(sagaId, i));
  const found = await store.getMany(keys);
  const games: Game[] = [];
  for (const k of keys) {
    const part = found.get(`${k.pk}\u0000${k.sk}`) as { games: Game[] } | undefined;
    // The parts expire with the head; one missing is a snapshot gone.
    if (!part) return undefined;
    games.push(...part.games);
  }
  if (head.games_count !== undefined && games.length !== head.games_count) return undefined;
  return { games, ...conferences };
}

/** Removes a saga's snapshot of the games: the head first, then every part it may have. */
export async function deleteGamesSnapshot(store: DocumentStore, sagaId: string): Promise<void> {
  const key = headKey(sagaId);
  await store.write([], [key]);
  // A page at a time: the parts of a season of 10,000 teams hold about 20 MB of games.
  for await (const parts of store.queryPages(key.pk, { prefix: 'games#' }))
    if (parts.length > 0)
      await store.write(
        [],
        parts.map(({ pk, sk }) => ({ pk, sk })),
      );
}
