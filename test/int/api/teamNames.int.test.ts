import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { feedRows, game } from '../../support/games.js';

const COMPOSED = 'Universit\u00e9 Laval';
const DECOMPOSED = 'Universite\u0301 Laval';
let pipeline: EmbeddedPipeline;
let app: ReturnType<typeof createApi>;

beforeAll(async () => {
  pipeline = await startPipeline({ memory: true, debounceMs: 200 });
  await ingestGames(
    feedRows([
      game(`${COMPOSED} 2-1 McGill`, { season: '2026', date: '2026-09-01' }),
      game(`McGill 0-0 ${COMPOSED}`, { season: '2026', date: '2026-09-08' }),
    ]),
    { store: pipeline.runtime.store },
  );
  await pipeline.runtime.settle();
  app = createApi(pipeline.queries, { token: 'a-test-token-of-this-server' });
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('a team named in a path', () => {
  it('finds the team the feed wrote composed when the address writes its accent decomposed', async () => {
    const path = `/teams/${encodeURIComponent(DECOMPOSED)}`;

    const one = await app.request(path);
    const matches = await app.request(`${path}/matches?season=2026`);

    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ team_id: COMPOSED });
    expect(matches.status).toBe(200);
    expect(((await matches.json()) as { matches: unknown[] }).matches).toHaveLength(2);
  });
});
