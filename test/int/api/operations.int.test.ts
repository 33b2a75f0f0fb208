import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { FaultPlan } from '../../../sagas/faults.js';

// The operations side of the API on the embedded pipeline: a season whose first calculation
// fails its cache update every attempt, so the saga compensates.
const TOKEN = 'an-operations-test-token';
const WRITER = { authorization: `Bearer ${TOKEN}` };
const season = generateSeason({ teams: 10, gamesPerTeam: 4, seed: 21 });
let pipeline: EmbeddedPipeline;
let app: ReturnType<typeof createApi>;
let sagaId: string;

beforeAll(async () => {
  pipeline = await startPipeline({
    memory: true,
    debounceMs: 60_000,
    retryDelayMs: 5,
    faults: new FaultPlan([{ step: 'update_cache', mode: 'error' }]),
  });
  async function* rows() {
    yield season.games.map((game, i) => ({ kind: 'game' as const, line: i + 2, game, fields: {} }));
  }
  await ingestGames(rows(), { store: pipeline.runtime.store });
  await pipeline.runtime.settle();
  app = createApi(pipeline.queries, { token: TOKEN });
  const posted = await app.request('/sagas', {
    method: 'POST',
    body: JSON.stringify({ season: '2026', as_of: '2026-12-31' }),
    headers: WRITER,
  });
  sagaId = ((await posted.json()) as { saga_id: string }).saga_id;
  await pipeline.sagas.waitFor(sagaId);
  await pipeline.runtime.settle();
}, 90_000);

afterAll(async () => {
  await pipeline?.stop();
});

async function get<T>(path: string): Promise<T> {
  const response = await app.request(path);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

interface Entry {
  step_name: string;
  kind: string;
  attempt: number;
  started_at: string;
  ended_at: string | null;
  outcome: string;
  error: string | null;
}

describe('the operations side of the API', () => {
  it("lists the sagas newest first, and shows a compensated saga's attempts and compensations on its timeline", async () => {
    const { sagas } = await get<{ sagas: { saga_id: string; status: string }[] }>('/sagas');
    const timeline = await get<{ entries: Entry[]; started_at: string; finished_at: string }>(
      `/sagas/${sagaId}/timeline`,
    );

    expect(sagas[0]).toMatchObject({ saga_id: sagaId, status: 'compensated' });
    const failed = timeline.entries.filter(
      (e) => e.step_name === 'update_cache' && e.kind === 'step',
    );
    expect(failed.length).toBeGreaterThan(1);
    expect(failed.map((e) => e.attempt)).toEqual(failed.map((_, i) => i + 1));
    expect(failed.every((e) => e.outcome === 'failed' && e.error?.includes('injected'))).toBe(true);
    const compensations = timeline.entries.filter((e) => e.kind === 'compensation');
    expect(compensations.map((e) => e.step_name)).toEqual(
      expect.arrayContaining(['publish_results', 'calculate_rpi']),
    );
    expect(compensations.every((e) => e.outcome === 'completed')).toBe(true);
    // Every span ends after it starts, the compensations after the last failure.
    for (const e of timeline.entries) expect(e.ended_at && e.ended_at >= e.started_at).toBe(true);
    const lastFailure = failed.at(-1)?.ended_at ?? '';
    expect(compensations.every((e) => e.started_at >= lastFailure)).toBe(true);
    expect(timeline.finished_at >= timeline.started_at).toBe(true);
  });

  it('shows the store: events by type, its size, every schema with its versions and mode', async () => {
    const store = await get<{
      events: { total: number; by_type: Record<string, number> };
      size: { items: number | null; bytes: number | null };
      schemas: {
        event_type: string;
        compatibility: string;
        versions: { version: number; latest: boolean }[];
      }[];
    }>('/store');

    expect(store.events.by_type.MatchRecorded).toBe(season.games.length);
    // A store in memory has no size to tell (on a data folder: its bytes on disk).
    expect(store.size).toEqual({ items: null, bytes: null });
    const started = store.schemas.find((s) => s.event_type === 'SagaStarted');
    expect(started?.compatibility).toMatch(/^(BACKWARD|FORWARD|FULL|NONE)/);
    expect(started?.versions.filter((v) => v.latest)).toHaveLength(1);
    expect(started?.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it("samples the consumers' lag over time, and lists each read model's generations", async () => {
    const first = await get<{ samples: { consumers: { name: string }[] }[] }>('/consumers');
    const second = await get<{
      samples: { at: string; consumers: { name: string; applied: number }[] }[];
      read_models: { name: string; active: number; generations: { status: string }[] }[];
    }>('/consumers');

    expect(first.samples.length).toBeGreaterThanOrEqual(1);
    expect(second.samples.length).toBe(first.samples.length + 1);
    const names = second.samples.at(-1)?.consumers.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['read-models', 'bus-router', 'sagas']));
    expect(second.read_models.map((r) => r.name).sort()).toEqual(
      READ_MODELS.map((p) => p.name).sort(),
    );
    expect(second.read_models.every((r) => r.active === 1)).toBe(true);
  });
});

describe('the timeline of a saga whose compensation gave up', () => {
  it('ends when the saga failed, as the saga itself says', async () => {
    // Prepare: the cache update fails, then the compensation of the publication fails for good.
    const failing = await startPipeline({
      memory: true,
      debounceMs: 60_000,
      retryDelayMs: 5,
      faults: new FaultPlan([
        { step: 'update_cache', mode: 'error' },
        { step: 'publish_results', mode: 'error', in: 'compensation' },
      ]),
    });
    try {
      async function* rows() {
        yield season.games.map((game, i) => ({
          kind: 'game' as const,
          line: i + 2,
          game,
          fields: {},
        }));
      }
      await ingestGames(rows(), { store: failing.runtime.store });
      await failing.runtime.settle();
      const api = createApi(failing.queries, { token: TOKEN });
      const posted = await api.request('/sagas', {
        method: 'POST',
        body: JSON.stringify({ season: '2026', as_of: '2026-12-31' }),
        headers: WRITER,
      });
      const id = ((await posted.json()) as { saga_id: string }).saga_id;
      await failing.sagas.waitFor(id);
      await failing.runtime.settle();

      // Act
      const saga = (await (await api.request(`/sagas/${id}`)).json()) as {
        status: string;
        finished_at: string | null;
      };
      const timeline = (await (await api.request(`/sagas/${id}/timeline`)).json()) as {
        finished_at: string | null;
        entries: Entry[];
      };

      // Assess: the saga failed and finished; its timeline ends then, after its last attempt.
      expect(saga.status).toBe('failed');
      expect(saga.finished_at).not.toBeNull();
      expect(timeline.finished_at).toBe(saga.finished_at);
      const last = timeline.entries.at(-1);
      expect(last).toMatchObject({ kind: 'compensation', outcome: 'failed', will_retry: false });
      expect(timeline.finished_at).toBe(last?.ended_at);
    } finally {
      await failing.stop();
    }
  }, 90_000);
});
