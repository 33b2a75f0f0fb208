import { describe, expect, it } from 'vitest';
import { measure as clients } from '../../../bench/clients.js';
import { measure as consumer } from '../../../bench/consumer.js';
import { measure as ingest } from '../../../bench/ingest.js';
import { measure as marshal } from '../../../bench/marshal.js';
import { REBUILD_SCENARIOS, REBUILT_MODELS, measure as rebuild } from '../../../bench/rebuild.js';
import { measure as recovery } from '../../../bench/recovery.js';
import { measure as rpi } from '../../../bench/rpi.js';
import { measure as volume } from '../../../bench/volume.js';
import { measure as writes } from '../../../bench/writes.js';

/**
 * Every benchmark scenario once on tiny inputs, so the benchmark code cannot rot: each must
 * produce its figures from work that really happened (counts), never how fast.
 */
describe('the benchmarks on tiny inputs', () => {
  it('times the RPI engine on a small season', () => {
    const figure = rpi({ name: 'rpi-tiny', teams: 20, games: 60, runs: 2 });

    expect(figure).toMatchObject({ scenario: 'rpi-tiny', teams: 20, games: 60, runs: 2 });
    expect(figure.value).toBeGreaterThan(0);
  });

  it('ingests a small season next to the raw PutItem rate', async () => {
    const figure = await ingest({
      name: 'ingest-tiny',
      teams: 12,
      gamesPerTeam: 4,
      concurrency: 2,
      rawPuts: 50,
      rounds: 1,
    });

    expect(figure.matches).toBeGreaterThan(12);
    expect(figure.rounds).toBe(1);
    // Each match and each team's registration, once.
    expect(figure.events).toBe(figure.matches + 12);
    expect(figure.baseline).toBeGreaterThan(0);
    expect(figure.ratio).toBeGreaterThan(0);
  }, 60_000);

  it('decodes, upcasts and applies a few hundred records, and measures latency for a second', async () => {
    const [plain] = await consumer('consumer-throughput', { events: 300 });
    const [upcast] = await consumer('consumer-throughput-upcast', { events: 300 });
    const latency = await consumer('e2e-latency', { seconds: 1 });

    expect(plain).toMatchObject({
      events: 300,
      payload_baseline_unit: expect.stringMatching(/MatchRecorded v\d+ payloads/),
    });
    expect(upcast).toMatchObject({
      events: 300,
      payload_baseline_unit: expect.stringContaining('MatchRecorded v1 payloads'),
    });
    expect(latency.map((f) => f.scenario)).toEqual([
      'e2e-latency-append-to-consumer',
      'e2e-latency-append-to-bus-handler',
    ]);
    // Every appended event reached the consumer and the bus handler.
    for (const f of latency) expect(f.events).toBe(50);
  }, 60_000);

  it('marshals the same items by hand and with util-dynamodb, with equal results', async () => {
    // The scenario checks both ways give equal items before it times them.
    const result = await marshal('marshal', { items: 40, rounds: 2 });

    expect(result.figures.map((f) => f.shape)).toEqual([
      'commit-item-write',
      'commit-item-read',
      'change-image-read',
      'document-write',
      'document-read',
    ]);
    for (const f of result.figures) {
      expect(f.items).toBe(40);
      expect(f.value).toBeGreaterThan(0);
      expect(f.baseline).toBeGreaterThan(0);
    }
    // The relay forwarded every commit of its rounds (it throws otherwise).
    expect(result.relay.value).toBeGreaterThan(0);
  }, 60_000);

  it('times a request to the embedded dynalite by client, each request stored', async () => {
    // The scenario checks the lean client lacks the middleware it names and the other has it,
    // that the first hands its requests over directly and the second as the SDK's messages,
    // and that every request stored its item, before it gives figures.
    const result = await clients('client-overhead', { requests: 30, rounds: 2 });

    expect(result.stored).toBe(5 * 30 * 3);
    expect(result.removed).toEqual([
      'getUserAgentMiddleware',
      'recursionDetectionMiddleware',
      'loggerMiddleware',
    ]);
    for (const way of [
      result.direct,
      result.messages,
      result.lean,
      result.full_stack,
      result.signed,
    ]) {
      expect(way.us_per_request).toBeGreaterThan(0);
      expect(way.per_second).toBeGreaterThan(0);
    }
    expect(result.ratio_full_stack).toBeCloseTo(
      result.lean.us_per_request / result.full_stack.us_per_request,
      2,
    );
  }, 60_000);

  it('rebuilds every main read model from a small store next to the raw scan, then through the archive', async () => {
    const result = await rebuild({
      name: 'rebuild-tiny',
      teams: 20,
      gamesPerTeam: 6,
      segments: 2,
      rawWrites: 100,
    });

    // The matches and 20 registrations, every one read by every rebuild.
    expect(result.events).toBeGreaterThan(20 + 40);
    expect(result.figures.map((f) => f.read_model)).toEqual([...REBUILT_MODELS]);
    for (const f of result.figures) {
      expect(f.events_read).toBe(result.events);
      // A small store fits the memory budget: folded whole, written in one flush at the end
      // (or a few, should a checkpoint come first on a slow machine).
      expect(f.flushes).toBeGreaterThanOrEqual(1);
      expect(f.peak_heap_mb).toBeGreaterThan(0);
    }
    expect(result.figures.find((f) => f.read_model === 'teams')?.events_applied).toBe(20);
    // The same read models through the archive: each from an export of the whole store,
    // applying as many events as the scan rebuild did.
    expect(result.archive.figures.map((f) => f.figure)).toEqual(
      REBUILT_MODELS.map((m) => `rebuild-archive-${m}`),
    );
    for (const f of result.archive.figures) {
      const scan = result.figures.find((s) => s.read_model === f.read_model);
      expect(f.events_read).toBe(result.events);
      expect(f.export_items).toBe(result.events);
      expect(f.events_applied).toBe(scan?.events_applied);
      expect(f.baseline).toBe(scan?.value);
      // One data file per export segment; every stream holds one commit, so none is split.
      expect(f.files).toBe(2);
      expect(f.deferred_streams).toBe(0);
      expect(f.export_seconds).toBeGreaterThan(0);
      expect(f.seconds).toBeCloseTo(f.export_seconds + f.replay_seconds, 2);
      expect(f.value).toBeLessThanOrEqual(f.value_excluding_export);
      expect(f.flushes).toBeGreaterThanOrEqual(1);
    }
    // Each archive rebuild read an export of its own.
    expect(new Set(result.archive.figures.map((f) => f.export_id)).size).toBe(
      REBUILT_MODELS.length,
    );
    // The two generations of each read model compared (equal), next to a raw scan of both.
    expect(result.comparison.figures.map((f) => f.figure)).toEqual(
      REBUILT_MODELS.map((m) => `compare-${m}`),
    );
    for (const f of result.comparison.figures) {
      expect(f.documents).toBeGreaterThan(0);
      expect(f.value).toBeGreaterThan(0);
      expect(f.baseline).toBeGreaterThan(0);
      expect(f.peak_heap_mb).toBeGreaterThan(0);
    }
  }, 120_000);

  it('rebuilds every read model by scan and through the archive only those a scenario names (rebuild-1m: teams)', async () => {
    const result = await rebuild({
      name: 'rebuild-tiny-archived',
      teams: 10,
      gamesPerTeam: 4,
      segments: 2,
      rawWrites: 50,
      archived: ['teams'],
    });

    expect(result.figures.map((f) => f.read_model)).toEqual([...REBUILT_MODELS]);
    expect(result.archive.figures.map((f) => f.figure)).toEqual(['rebuild-archive-teams']);
    expect(result.comparison.figures.map((f) => f.figure)).toEqual(['compare-teams']);
    expect(REBUILD_SCENARIOS.find((s) => s.name === 'rebuild-1m')).toMatchObject({
      archived: ['teams'],
    });
    expect(REBUILD_SCENARIOS.find((s) => s.name === 'rebuild-1m')?.models).toBeUndefined();
  }, 120_000);

  it("times the relay's scan after an unclean stop on a small store, finding the commits after its watermark", async () => {
    const result = await recovery({
      name: 'relay-recovery-tiny',
      teams: 20,
      gamesPerTeam: 6,
      tail: 10,
      segments: 2,
    });

    // The matches and 20 registrations; at least the last 10 (more share the watermark's stamp).
    expect(result.commits).toBeGreaterThan(20 + 40);
    expect(result.found).toBeGreaterThanOrEqual(10);
    expect(result.found).toBeLessThan(result.commits);
    expect(result.warning).toContain(`${result.found} commits stored since`);
    expect(result.baseline).toBeGreaterThan(0);
    expect(result.ratio).toBeGreaterThan(0);
  }, 60_000);

  it('runs a small season through the whole pipeline, through ingest alone and through serve, each in a process of its own', async () => {
    const result = await volume({
      name: 'volume-tiny',
      teams: [12, 16],
      gamesPerTeam: 4,
      seed: 3,
    });

    expect(result.figures.map((f) => f.teams)).toEqual([12, 16]);
    for (const f of result.figures) {
      // The same feed's events went in both ways: each match and each team's registration.
      expect(f.events).toBe(f.matches + f.teams);
      // The season was rated from every game, and the sagas appended events of their own.
      expect(f.saga_status).toBe('completed');
      expect(f.games_counted).toBe(f.matches);
      expect(f.events_appended_total).toBeGreaterThan(f.events);
      // Memory sampled in the run: the main thread and each server's thread apart.
      expect(f.samples).toBeGreaterThan(0);
      expect(f.main_heap_mb).toBeGreaterThan(0);
      expect(Object.keys(f.threads_heap_mb).sort()).toEqual(['dynalite', 'kinesalite']);
      for (const heap of Object.values(f.threads_heap_mb)) expect(heap).toBeGreaterThan(0);
      expect(f.main_heap_committed_mb).toBeGreaterThanOrEqual(f.main_heap_mb);
      expect(f.peak_rss_mb).toBeGreaterThan(f.main_heap_mb);
      // CPU time of each run, and by thread where the kernel counts it (Linux): the named
      // threads and the rest add up to the process's.
      // The ingest alone runs no change stream, so no kinesalite.
      for (const [cpu, byThread, threads] of [
        [f.cpu_seconds, f.cpu_seconds_by_thread, ['dynalite', 'kinesalite', 'main', 'other']],
        [f.ingest_cpu_seconds, f.ingest_cpu_seconds_by_thread, ['dynalite', 'main', 'other']],
      ] as const) {
        expect(cpu).toBeGreaterThan(0);
        if (process.platform !== 'linux') {
          expect(byThread).toEqual({});
          continue;
        }
        expect(Object.keys(byThread).sort()).toEqual(threads);
        expect(byThread.main).toBeGreaterThan(0);
        expect(byThread.dynalite).toBeGreaterThan(0);
        const sum = Object.values(byThread).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - cpu)).toBeLessThan(0.05);
      }
      expect(f.cores_busy).toBeGreaterThan(0);
      expect(f.cpu_ms_per_event).toBeCloseTo((f.cpu_seconds * 1000) / f.events, 2);
      expect(f.ingest_cpu_ms_per_event).toBeCloseTo((f.ingest_cpu_seconds * 1000) / f.events, 2);
      expect(f.cpu_ratio).toBeCloseTo(f.ingest_cpu_seconds / f.cpu_seconds, 2);
      // Each of start's phases apart, as the command published them (cli/phases.ts).
      const phases = Object.keys(f.peak_rss_by_phase_mb).filter((p) => p !== 'other');
      expect(phases).toEqual(['check', 'boot', 'ingest', 'catch-up', 'buses', 'rating']);
      for (const rss of Object.values(f.peak_rss_by_phase_mb)) {
        expect(rss).toBeGreaterThan(0);
        expect(rss).toBeLessThanOrEqual(f.peak_rss_mb);
      }
      // Their durations too, which with the time outside them make up the run.
      expect(Object.keys(f.seconds_by_phase).filter((p) => p !== 'other')).toEqual(phases);
      const inPhases = Object.values(f.seconds_by_phase).reduce((a, b) => a + b, 0);
      expect(inPhases).toBeGreaterThan(0);
      expect(Math.abs(inPhases - f.seconds)).toBeLessThan(0.05);
      expect(f.ratio).toBeGreaterThan(0);
      // Every event was appended by a conditional PutItem, the sagas' too; batches count each item.
      expect(f.requests_per_event['PutItem matchstream-events']).toBeGreaterThanOrEqual(1);
      expect(f.items_per_event_total).toBeGreaterThanOrEqual(f.requests_per_event_total);
      // The feed sent to serve was rated from every game, by sagas that all completed, after
      // the ingest handed it over.
      expect(f.served.games_counted).toBe(f.matches);
      expect(f.served.sagas).toBeGreaterThanOrEqual(1);
      expect(f.served.saga_statuses).toEqual(['completed']);
      expect(f.served.seconds_to_rated).toBeGreaterThan(0);
      expect(f.served.ingest_seconds).toBeGreaterThan(0);
      expect(f.served.ratio).toBeGreaterThan(0);
      expect(f.served.peak_rss_mb).toBeGreaterThan(0);
    }
    expect(result.rss_growth_mb_per_1000_events).not.toBeNull();
    expect(Object.keys(result.rss_growth_mb_per_1000_events_by_phase ?? {})).toEqual(
      expect.arrayContaining(['check', 'boot', 'ingest', 'catch-up', 'buses', 'rating']),
    );
  }, 180_000);

  it('counts the items written per table through the whole pipeline and each rebuild', async () => {
    const result = await writes({ name: 'writes-tiny', teams: 12, gamesPerTeam: 4 });
    const table = (name: string) => result.pipeline.tables.find((t) => t.table === name)?.items;

    // Every match and registration, and the season's saga events, counted by pipeline-stats.
    expect(result.events_by_type).toMatchObject({
      MatchRecorded: result.matches,
      TeamRegistered: 12,
    });
    expect(result.events).toBeGreaterThan(result.matches + 12);
    // A result writes its match and three copies (season, each team), its standings item and
    // its reference; each stream's position once per consumer that reads the stream (the
    // saga consumer reads the sagas' streams only), but the read-models consumer's and the bus
    // router's for none of the streams of one event (each match, each team): only the sagas'
    // and calculations'. A consumer writes a stream's position once per batch that holds its
    // events, so at most once per saga or calculation event: as many when each of those events
    // reaches the consumer in a batch of its own, as the saga's steps usually do.
    expect(table('matchstream-rm-matches-v2')).toBe(4 * result.matches);
    expect(table('matchstream-rm-standings-v2')).toBe(2 * result.matches);
    expect(table('positions:bus-router')).toBeGreaterThan(0);
    expect(table('positions:bus-router')).toBeLessThanOrEqual(result.events - result.matches - 12);
    expect(table('positions:read-models')).toBeGreaterThan(0);
    expect(table('positions:read-models')).toBeLessThanOrEqual(result.events - result.matches - 12);
    expect(table('positions:sagas')).toBeGreaterThanOrEqual(result.events_by_type.SagaStarted ?? 0);
    expect(table('positions:sagas')).toBeLessThanOrEqual(result.events - result.matches - 12);
    // Each commit stored once (a commit holds one event or more): the relay took them over
    // from the store, so none carries a pending marker to be written back (which wrote each
    // commit twice). Conditional writes refused (a team's registration two results raced for,
    // a saga's append that lost a race) are billed, and counted, all the same.
    expect(table('events')).toBeGreaterThanOrEqual(result.matches + 12);
    expect(table('events')).toBeLessThan(1.5 * result.events);
    expect(result.pipeline.items).toBe(result.pipeline.tables.reduce((sum, t) => sum + t.items, 0));
    expect(result.pipeline.value).toBeCloseTo(result.pipeline.items / result.events, 2);
    // Every write bills at least a write unit; documents under 1 KB, exactly one.
    expect(result.pipeline.write_units).toBeGreaterThanOrEqual(result.pipeline.items);
    for (const t of result.pipeline.tables) expect(t.units).toBeGreaterThanOrEqual(t.items);
    expect(result.pipeline.tables.find((t) => t.table === 'matchstream-rm-matches-v2')?.units).toBe(
      4 * result.matches,
    );
    // Each rebuild writes its new generation's documents: the same as the live ones.
    const matches = result.rebuilds.find((r) => r.read_model === 'matches');
    expect(matches?.events_applied).toBe(result.matches);
    expect(
      matches?.per_event_read.tables.find((t) => t.table === 'matchstream-rm-matches-v2-g2')?.items,
    ).toBe(4 * result.matches);
    expect(result.rebuilds).toHaveLength(6);
    // A rebuild gives positions only to the streams its read model reads and applies past
    // their first event: none for the 12 teams (one event each) or the matches, and none from
    // the catch-up on the change stream either.
    const positionsOf = (model: string) =>
      result.rebuilds
        .find((r) => r.read_model === model)
        ?.per_event_read.tables.find((t) => t.table === `positions:read-model:${model}:g2`)
        ?.items ?? 0;
    expect(positionsOf('teams')).toBe(0);
    expect(positionsOf('matches')).toBe(0);
    // The sagas' streams are past their first event.
    expect(positionsOf('sagas')).toBeGreaterThan(0);
  }, 180_000);
});
