import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, interruptedCli, runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';
import { runCliInTerminal, runWithOutput, terminalFrames } from '../support/terminal.js';

const tmp = tempDir();

interface Summary {
  season: string;
  events_appended: number;
  records_relayed: number;
  events_applied: Record<string, number>;
  events_skipped: Record<string, number>;
  events_filled: Record<string, number>;
  published: Record<string, number>;
  dead_letters: number;
  saga: {
    id: string;
    status: string;
    failed_step: string | null;
    compensations: string[];
    automatic_sagas: number;
  };
  rankings_unchanged: boolean;
  ingest: { appended: number; teams_registered: number; events_appended: number };
  rankings: { team: string; rank: number | null; rpi: number | null }[];
}

/** The `start` of the fault cases: a small season on a data folder. */
const faultBase = (data: string) => [
  'start',
  '--teams',
  '16',
  '--games-per-team',
  '5',
  '--data-dir',
  data,
  '--json',
];

let rated: Promise<{ before: Summary; folder: string }> | undefined;

/** A data folder a `start` of seed 1 rated (once per file), and what that run printed. */
function ratedSeason(): Promise<{ before: Summary; folder: string }> {
  rated ??= (async () => {
    const folder = tmp.path('rated-seed-1');
    const run = await runCli([...faultBase(folder), '--seed', '1']);
    if (run.code !== 0) throw new Error(`start of seed 1 exited ${run.code}: ${run.stderr}`);
    return { before: JSON.parse(run.stdout) as Summary, folder };
  })();
  return rated;
}

describe('matchstream start: the whole pipeline on the embedded default', () => {
  it('applies every event once in every consumer, and ranks exactly as "rpi" does', async () => {
    // Prepare
    const games = tmp.path('season.csv');
    await runCli([
      'generate',
      '--teams',
      '40',
      '--games-per-team',
      '8',
      '--seed',
      '12',
      '--out',
      games,
    ]);

    // Act
    const run = await runCli(['start', games, '--json']);
    const direct = await runCli(['rpi', '--games', games, '--format', 'json']);

    // Assess
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    const { ingest } = summary;
    // Each consumer saw every event once: applied, or skipped as of a stream it does not read
    // (the saga consumer reads saga streams only). The read-models consumer keeps no position
    // for a stream whose first event came alone, so when the stream's next event comes (a
    // saga's, a calculation's), it reads the first from the store and applies it again,
    // which changes nothing: at least once, and at most the events filled from the store more.
    for (const [name, applied] of Object.entries(summary.events_applied)) {
      const handled = applied + (summary.events_skipped[name] ?? Number.NaN);
      if (name === 'read-models') {
        expect(handled).toBeGreaterThanOrEqual(summary.events_appended);
        expect(handled - (summary.events_filled[name] ?? Number.NaN)).toBeLessThanOrEqual(
          summary.events_appended,
        );
      } else expect(handled).toBe(summary.events_appended);
    }
    expect(summary.events_skipped).toMatchObject({ 'read-models': 0, 'bus-router': 0 });
    expect(summary.events_skipped.sagas).toBeGreaterThan(ingest.appended);
    expect(Object.keys(summary.events_applied).sort()).toEqual([
      'bus-router',
      'read-models',
      'sagas',
    ]);
    // One commit per event: ingest appends one per row, sagas and calculations one per move.
    expect(summary.records_relayed).toBe(summary.events_appended);
    expect(summary.saga).toMatchObject({ status: 'completed', compensations: [] });
    expect(summary.saga.automatic_sagas).toBeGreaterThanOrEqual(1);
    // Every automatic saga completed: each calculated, published and cached once.
    expect(summary.published).toMatchObject({
      soccer: ingest.appended,
      metadata: ingest.teams_registered,
      calculation: 3 * summary.saga.automatic_sagas,
    });
    expect(summary.dead_letters).toBe(0);
    const expected = (
      JSON.parse(direct.stdout) as { rankings: { team: string; rank: number; rpi: number }[] }
    ).rankings;
    expect(summary.rankings.map((r) => [r.team, r.rank, r.rpi])).toEqual(
      expected.map((r) => [r.team, r.rank, r.rpi]),
    );
  });

  it('keeps its state in a data folder: a second run ingests nothing new', async () => {
    const games = tmp.path('small.csv');
    const data = tmp.path('data');
    await runCli([
      'generate',
      '--teams',
      '12',
      '--games-per-team',
      '4',
      '--seed',
      '3',
      '--out',
      games,
    ]);

    const first = JSON.parse(
      (await runCli(['start', '--games', games, '--data-dir', data, '--json'])).stdout,
    ) as Summary;
    const second = JSON.parse(
      (await runCli(['start', '--games', games, '--data-dir', data, '--json'])).stdout,
    ) as Summary;

    expect(first.ingest.events_appended).toBeGreaterThan(0);
    expect(second.ingest.events_appended).toBe(0);
    // Nothing changed, so nothing was recalculated: the first run's saga stands.
    expect(second.events_appended).toBe(0);
    expect(second.saga.id).toBe(first.saga.id);
    expect(second.rankings).toEqual(first.rankings);
  });

  it("rates a data folder's season in the profile asked for, whichever profile an earlier run rated it in", async () => {
    // Prepare: a season with ties, which the 2023 and 2024 soccer profiles count differently,
    // rated once in the default profile.
    const games = tmp.path('profiles.csv');
    const data = tmp.path('profiles');
    await runCli([
      'generate',
      '--team-count',
      '12',
      '--games-per-team',
      '4',
      '--seed',
      '8',
      '--out',
      games,
    ]);
    const first = await runCli(['start', games, '--data-dir', data, '--json']);

    // Act
    const rerated = (profile: string) =>
      runCli(['start', '--data-dir', data, '--season', '2026', '--profile', profile, '--json']);
    const older = await rerated('ncaa-soccer-2023');
    const back = await rerated('ncaa-soccer-2024');
    const direct = async (profile: string) =>
      (
        JSON.parse((await runCli(['rpi', games, '--profile', profile, '--json'])).stdout) as {
          rankings: { team: string; rank: number; rpi: number }[];
        }
      ).rankings.map((r) => [r.team, r.rank, r.rpi]);

    // Assess: each run prints the rankings of its own profile, as "rpi" computes them.
    expect(first.code).toBe(0);
    for (const [run, profile] of [
      [older, 'ncaa-soccer-2023'],
      [back, 'ncaa-soccer-2024'],
    ] as const) {
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout) as Summary & { profile: string };
      expect(summary.profile).toBe(profile);
      expect(summary.rankings.map((r) => [r.team, r.rank, r.rpi])).toEqual(await direct(profile));
    }
    // The default profile's rankings stood: the first run's saga, not calculated again.
    expect((JSON.parse(back.stdout) as Summary).saga.id).toBe(
      (JSON.parse(first.stdout) as Summary).saga.id,
    );
  });

  it("rates a data folder's season whose saga an earlier run left compensated", async () => {
    // Prepare: a season whose first rating failed on purpose.
    const games = tmp.path('compensated.csv');
    const data = tmp.path('compensated');
    await runCli([
      'generate',
      '--team-count',
      '10',
      '--games-per-team',
      '4',
      '--seed',
      '9',
      '--out',
      games,
    ]);
    const failed = await runCli([
      'start',
      games,
      '--data-dir',
      data,
      '--json',
      '--inject-fault',
      'saga:publish_results',
    ]);

    // Act: the same run again, without the fault.
    const again = await runCli(['start', games, '--data-dir', data, '--json']);
    const direct = await runCli(['rpi', games, '--json']);

    // Assess
    expect(failed.code).toBe(1);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as Summary;
    expect(summary.saga.status).toBe('completed');
    expect(summary.saga.id).not.toBe((JSON.parse(failed.stdout) as Summary).saga.id);
    expect(summary.rankings.map((r) => [r.team, r.rank, r.rpi])).toEqual(
      (
        JSON.parse(direct.stdout) as { rankings: { team: string; rank: number; rpi: number }[] }
      ).rankings.map((r) => [r.team, r.rank, r.rpi]),
    );
  });

  it("generates no season into a data folder that holds events unless asked: without a feed it rates the folder's season, named", async () => {
    // Prepare: a feed of the ids the sample season has (2026-00001...), ingested on its own.
    const games = tmp.path('own.csv');
    const data = tmp.path('own');
    await runCli([
      'generate',
      '--team-count',
      '12',
      '--games-per-team',
      '4',
      '--seed',
      '5',
      '--out',
      games,
    ]);
    const ingested = await runCli(['ingest', games, '--data-dir', data, '--json']);

    // Act
    const refused = await runCli(['start', '--data-dir', data, '--json']);
    const afterRefusal = await runCli(['status', '--data-dir', data, '--json']);
    const rated = await runCli(['start', '--data-dir', data, '--season', '2026', '--json']);
    const direct = await runCli(['rpi', '--games', games, '--format', 'json']);
    const status = await runCli(['status', '--data-dir', data, '--json']);
    const stored = (run: { stdout: string }) =>
      (JSON.parse(run.stdout) as { events: { total: number } }).events.total;

    // Assess
    expect(ingested.code).toBe(0);
    const { appended } = JSON.parse(ingested.stdout) as { appended: number };
    // No --season: refused on the command line, saying what to do, before anything ran on
    // the folder (its read models applied nothing).
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^matchstream: the data folder \S+ holds events already, and no games feed was given: name the season of the folder to rate \(--season LABEL\), or give a feed to add to it; /,
    );
    expect((JSON.parse(afterRefusal.stdout) as { applied: { total: number } }).applied.total).toBe(
      0,
    );
    // With it: nothing ingested, the folder's season rated as "rpi" rates the feed.
    expect(rated.code).toBe(0);
    const summary = JSON.parse(rated.stdout) as Summary & { source: string };
    expect(summary.source).toBe(`data folder ${data}`);
    expect(summary.ingest).toMatchObject({ read: 0, appended: 0, events_appended: 0 });
    // What the run appended (its saga's events), counted as stored, not as the read models
    // (which had applied none of the folder's events) caught up.
    expect(summary.events_appended).toBeGreaterThan(0);
    expect(summary.events_appended).toBe(stored(status) - stored(afterRefusal));
    expect(summary.saga.status).toBe('completed');
    const expected = (
      JSON.parse(direct.stdout) as { rankings: { team: string; rank: number; rpi: number }[] }
    ).rankings;
    expect(summary.rankings.map((r) => [r.team, r.rank, r.rpi])).toEqual(
      expected.map((r) => [r.team, r.rank, r.rpi]),
    );
    // The folder's results stand: no sample result took their place.
    const byType = (JSON.parse(status.stdout) as { events: { by_type: Record<string, number> } })
      .events.by_type;
    expect(byType.MatchRecorded).toBe(appended);
    expect(byType.MatchResultCorrected).toBeUndefined();
  });

  it('says a season the data folder holds no game of cannot be rated, before any saga runs', async () => {
    const games = tmp.path('held.csv');
    const data = tmp.path('held');
    await runCli(['generate', '--team-count', '8', '--games-per-team', '3', '--out', games]);
    await runCli(['ingest', games, '--data-dir', data]);

    const run = await runCli(['start', '--data-dir', data, '--season', '1999']);
    const sagas = await runCli(['saga', 'list', '--data-dir', data]);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^matchstream: season 1999 cannot be rated: no game of season 1999 has a result in the matches read model; nothing rated$/m,
    );
    // No saga ran, so none compensated into the folder's history.
    expect(sagas.stdout).toBe('no sagas\n');
  });

  it('rates a division of a data folder whose teams were imported since its last run', async () => {
    // Prepare: a season ingested, then its teams' divisions imported, no pipeline run since.
    const games = tmp.path('divided.csv');
    const teams = tmp.path('divided-teams.csv');
    const data = tmp.path('divided');
    await runCli(['generate', '--team-count', '8', '--games-per-team', '4', '--out', games]);
    await runCli(['generate', '--team-count', '8', '--out', '-', '--teams-out', teams]);
    const names = readFileSync(teams, 'utf8').trim().split('\n').slice(1);
    const divided = tmp.path('divisions.csv');
    const inI = names.slice(0, 6);
    writeFileSync(
      divided,
      `team,conference,division\n${names.map((line, i) => `${line},${i < 6 ? 'I' : 'II'}`).join('\n')}\n`,
    );
    await runCli(['ingest', games, '--data-dir', data]);
    await runCli(['teams', 'import', divided, '--data-dir', data]);

    // Act
    const run = await runCli([
      'start',
      '--data-dir',
      data,
      '--season',
      '2026',
      '--division',
      'I',
      '--json',
      '--quiet',
    ]);

    // Assess: the division's games are rated, as rpi rates them with its teams listed.
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const list = tmp.path('division-i.csv');
    writeFileSync(list, `team,conference\n${inI.join('\n')}\n`);
    const direct = await runCli(['rpi', games, '--teams-file', list, '--json']);
    const summary = JSON.parse(run.stdout) as { rankings: { team: string; rpi: number }[] };
    expect(summary.rankings.map((r) => [r.team, r.rpi])).toEqual(
      (JSON.parse(direct.stdout) as { rankings: { team: string; rpi: number }[] }).rankings.map(
        (r) => [r.team, r.rpi],
      ),
    );
  });

  it('says a season neither its feed nor a data folder holds cannot be rated, or a feed with no game, before anything boots', async () => {
    const games = tmp.path('unheld.csv');
    const data = tmp.path('unheld');
    await runCli(['generate', '--team-count', '8', '--games-per-team', '3', '--out', games]);

    const inMemory = await runCli(['start', games, '--season', '2025']);
    const inFolder = await runCli(['start', games, '--season', '2025', '--data-dir', data]);
    const folderMade = existsSync(data);
    // The feed's own season, or a folder that holds events, go on as before.
    await runCli(['ingest', games, '--data-dir', data]);
    const heldByFolder = await runCli(['start', games, '--season', '1999', '--data-dir', data]);

    const said = (extra: string) =>
      `matchstream: season 2025 cannot be rated: ${games} holds no game of it (it holds 2026: 15 games)${extra}; nothing stored, nothing rated\n`;
    expect(inMemory.code).toBe(1);
    expect(inMemory.stderr.replace(/\(\d+\.\d s\)/, '(T)')).toBe(
      `check: 15 rows valid (T)\n${said('')}`,
    );
    expect(inFolder.code).toBe(1);
    expect(inFolder.stderr.replace(/\(\d+\.\d s\)/, '(T)')).toBe(
      `check: 15 rows valid (T)\n${said(`, and the data folder ${data} holds no events`)}`,
    );
    expect(folderMade).toBe(false);
    // A feed with no game at all, with or without --season.
    const empty = tmp.file('no-games.csv', 'date,home_team,away_team,home_score,away_score\n');
    for (const season of [[], ['--season', '2026']]) {
      const run = await runCli(['start', empty, ...season]);
      expect({
        season,
        code: run.code,
        stderr: run.stderr.replace(/\(\d+\.\d s\)/, '(T)'),
      }).toEqual({
        season,
        code: 1,
        stderr: `check: 0 rows valid (T)\nmatchstream: ${empty} holds no game; nothing stored, nothing rated\n`,
      });
    }
    // The folder holds events: whether it holds the season is known once its read models are up.
    expect(heldByFolder.code).toBe(1);
    expect(heldByFolder.stderr).toMatch(/^boot:/m);
    expect(heldByFolder.stderr).toMatch(
      /^matchstream: season 1999 cannot be rated: no game of season 1999 has a result in the matches read model; nothing rated$/m,
    );
  });

  it('prints the top of the rankings and a pipeline summary for people', async () => {
    const run = await runCli(['start', '--team-count', '24', '--seed', '3', '--top', '5']);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^matchstream — sample season \(24 teams, seed 3\), season 2026: \d+ games, 24 teams \(ncaa-soccer-2024\)$/,
    );
    expect(lines.slice(3, 8).every((l) => / 0\.\d{4}$/.test(l))).toBe(true);
    expect(run.stdout).toMatch(
      /pipeline: [\d,]+ events appended, [\d,]+ change records relayed, 3 consumers \([\d,]+(–[\d,]+)? events handled each\)/,
    );
    expect(run.stdout).toMatch(
      /saga: [0-9a-f-]{36} completed in [\d.]+ s \([\d,]+ sagas? started /,
    );
  });

  it('keeps --teams working as the former name of --team-count, out of the help', async () => {
    const run = await runCli(['start', '--teams', '6', '--games-per-team', '3', '--json']);
    const help = await runCli(['start', '--help']);
    const both = await runCli(['start', '--teams', '6', '--team-count', '6']);
    const twoFeeds = await runCli(['start', 'a.csv', '--games', 'b.csv']);

    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { source: string }).source).toBe(
      'sample season (6 teams, seed 2026)',
    );
    expect(help.stdout).toContain('--team-count <n>');
    expect(help.stdout).not.toContain('--teams');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--teams is the old name of --team-count: give one of them');
    expect(twoFeeds.code).toBe(2);
    expect(twoFeeds.stderr).toContain('two games feeds: "a.csv" and --games "b.csv"; give one');
  });

  it('reads the games feed from standard input given "-"', async () => {
    const games = tmp.path('stdin.csv');
    await runCli(['generate', '--teams', '6', '--games-per-team', '3', '--out', games]);

    const run = await runCli(['start', '-', '--json', '--quiet'], {
      input: readFileSync(games, 'utf8'),
    });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      source: 'standard input',
      saga: { status: 'completed' },
    });
  });

  it('counts in the singular where there is one: "1 invalid row"', async () => {
    const games = tmp.file(
      'one-bad.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,Ash,Birch,2,1\n2026-09-02,Ash,Birch,x,1\n',
    );

    const run = await runCli(['start', games]);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('1 invalid row; nothing stored, nothing rated');
  });

  it('with --serve on a port in use, says so before a data folder is made', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const data = tmp.path('busy-port');

    const run = await runCli(['start', '--serve', '--port', String(port), '--data-dir', data]);
    taken.close();

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `matchstream: port ${port} on 127.0.0.1 is in use (another matchstream serve?): choose another with --port, or --port 0 for a free one\n`,
    );
    expect(existsSync(data)).toBe(false);
  });

  it('refuses a feed with invalid rows whole, before a data folder is made or a row stored', async () => {
    const games = tmp.file(
      'bad-rows.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,Ash,Birch,2,1\n2026-02-30,Ash,Birch,1,1\n2026-09-03,Birch,Cedar,0,1\n2026-09-04,Cedar,Ash,-1,1\n',
    );
    const data = tmp.path('bad-rows');

    const run = await runCli(['start', games, '--data-dir', data]);

    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^matchstream: \S+bad-rows\.csv:3: /m);
    expect(run.stderr).toMatch(/^matchstream: \S+bad-rows\.csv:5: /m);
    expect(run.stderr).toMatch(
      /^matchstream: 2 invalid rows; nothing stored, nothing rated \(fix them, or ingest with "matchstream ingest" to keep the rest\)$/m,
    );
    // Checked before the pipeline booted: the folder was never made, so nothing is in it.
    expect(existsSync(data)).toBe(false);
    expect(run.stderr).not.toMatch(/^boot: /m);
    // Standard input cannot be read twice: checked as it goes in, and the error says what was kept.
    const piped = await runCli(['start', '-', '--data-dir', tmp.path('bad-rows-stdin')], {
      input: readFileSync(games, 'utf8'),
    });
    expect(piped.code).toBe(3);
    expect(piped.stderr).toMatch(/^matchstream: stdin:3: /m);
    expect(piped.stderr).toMatch(
      /^matchstream: 2 invalid rows; nothing rated, though its 2 valid rows are stored in \S+ \(fix the rows and run again: a row stored already is not appended twice\)$/m,
    );
  });

  it('stops cleanly on Ctrl-C at any phase, says so, and the next run goes on from what was stored', async () => {
    const games = tmp.path('interrupted.csv');
    await runCli(['generate', '--team-count', '330', '--seed', '4', '--out', games]);

    // One run interrupted while rows go in, another once the read models caught up (the
    // buses or the rating under way): each ends within seconds (a wait for the pipeline to
    // settle held the process a minute after an interrupt in the buses phase).
    const inIngest = await interruptedCli(
      ['start', games, '--data-dir', tmp.path('int-ingest')],
      /^boot: /m,
    );
    const later = await interruptedCli(
      ['start', games, '--data-dir', tmp.path('int-later')],
      /^catch-up: /m,
    );
    const again = await runCli(['start', games, '--data-dir', tmp.path('int-ingest'), '--json']);
    const direct = await runCli(['rpi', '--games', games, '--format', 'json']);

    for (const run of [inIngest, later]) {
      expect(run.code, run.stderr).toBe(1);
      expect(run.seconds).toBeLessThan(10);
      expect(run.stderr).toContain('interrupted: stopping (Ctrl-C again to stop at once)\n');
      expect(run.stderr).toMatch(
        /^matchstream: start interrupted; run it again to continue: what it stored stays in \S+$/m,
      );
    }
    expect(inIngest.stderr).toMatch(/^ingest: interrupted after [\d,]+ rows/m);
    // The next run: no checkpoint left open by the interrupted one, every row in once.
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('without closing its checkpoint');
    const summary = JSON.parse(again.stdout) as Summary & {
      ingest: { read: number; unchanged: number };
    };
    expect(summary.ingest.appended + summary.ingest.unchanged).toBe(summary.ingest.read);
    const expected = (
      JSON.parse(direct.stdout) as { rankings: { team: string; rank: number; rpi: number }[] }
    ).rankings;
    expect(summary.rankings.map((r) => [r.team, r.rank, r.rpi])).toEqual(
      expected.map((r) => [r.team, r.rank, r.rpi]),
    );
  });

  it.each([
    [
      'error',
      'publish_results',
      ['rollback_publication', 'rollback_calculation', 'rollback_matches'],
    ],
    [
      'timeout',
      'update_cache',
      ['rollback_cache', 'rollback_publication', 'rollback_calculation', 'rollback_matches'],
    ],
  ])(
    'with an injected %s in %s, compensates in reverse and leaves the rankings as they were',
    async (mode, step, compensations) => {
      // A copy of one rated season (seed 1), the same for every case.
      const { before, folder } = await ratedSeason();
      const data = tmp.path(`fault-${mode}-${step}`);
      cpSync(folder, data, { recursive: true });

      // New results (another seed), and the saga they start fails.
      const run = await runCli([
        ...faultBase(data),
        '--seed',
        '2',
        '--inject-fault',
        `saga:${step}:${mode}`,
      ]);

      // The season was not rated: exit 1, with the summary complete all the same.
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`was compensated after ${step} failed`);
      const summary = JSON.parse(run.stdout) as Summary;
      expect(summary.saga).toMatchObject({
        status: 'compensated',
        failed_step: step,
        compensations,
      });
      expect(summary.rankings_unchanged).toBe(true);
      expect(summary.rankings).toEqual(before.rankings);
    },
  );

  it('exits 1 when the season could not be rated, after printing what happened', async () => {
    const run = await runCli([
      'start',
      '--team-count',
      '8',
      '--games-per-team',
      '3',
      '--inject-fault',
      'saga:publish-results',
    ]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('no rankings for season 2026');
    expect(run.stdout).toMatch(/\nsaga: [0-9a-f-]{36} compensated in [\d.]+ s/);
    expect(run.stderr).toMatch(
      /^matchstream: saga [0-9a-f-]{36} was compensated after publish[-_]results failed: /m,
    );
  });

  it('shows its phases on standard error, a plain line each off a terminal; --quiet none', async () => {
    const args = ['start', '--team-count', '12', '--games-per-team', '4', '--top', '3'];
    const run = await runCli(args);
    const quiet = await runCli([...args, '--quiet', '--log-level', 'silent']);

    expect(run.code).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    // A phase's last line says what it did and how long it took.
    const ends = lines.filter((l) => /^[a-z-]+: .* \(\d[\d. mins]* s\)$/.test(l));
    expect(ends.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      'boot',
      'ingest',
      'catch-up',
      'buses',
      'rating',
    ]);
    expect(ends[1]).toMatch(
      /^ingest: \d+ rows stored: \d+ new, 0 unchanged, 0 corrected; 12 teams registered/,
    );
    const rated = /^rating: season 2026: saga ([0-9a-f]{8}) completed/.exec(ends[4] ?? '');
    expect(rated).not.toBeNull();
    const steps = new RegExp(`^saga ${rated?.[1]}: collect[-_]matches completed$`);
    expect(lines.some((l) => steps.test(l))).toBe(true);
    expect(lines).toContain(`saga ${rated?.[1]}: completed`);
    expect(run.stdout).toMatch(/^matchstream — sample season/);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('on a terminal, draws each phase live: the ingest in rows stored', async () => {
    const run = await runCliInTerminal(['start', '--team-count', '24', '--top', '3']);

    expect(run.code).toBe(0);
    const frames = terminalFrames(run.output);
    const bars = frames
      .map((f) => /^ingest \[[=-]+\] +(\d+)% \| ([\d,]+) of ([\d,]+) rows stored/.exec(f))
      .filter((m) => m !== null)
      .map((m) => m.slice(1).map((n) => Number((n ?? '').replaceAll(',', ''))));
    expect(bars.length).toBeGreaterThan(0);
    for (const [percent, stored, total] of bars)
      expect(percent).toBe(Math.floor((100 * (stored ?? 0)) / (total ?? 1)));
    expect(frames.some((f) => /^ingest: \d+ rows stored: /.test(f))).toBe(true);
    expect(frames.some((f) => /^rating: season 2026: saga [0-9a-f]{8} completed/.test(f))).toBe(
      true,
    );
  });

  it('rates the whole season only: the buses catch up after the ingest, no saga counts part of it', async () => {
    // Prepare
    const data = tmp.path('whole');
    const calculations = tmp.path('calculations.jsonl');

    // Act
    const run = await runCli([
      'start',
      '--team-count',
      '30',
      '--games-per-team',
      '8',
      '--data-dir',
      data,
      '--json',
      '--quiet',
    ]);
    const replayed = await runCli([
      'replay',
      '--to',
      `file:${calculations}`,
      '--type',
      'RpiCalculated',
      '--data-dir',
      data,
      '--no-progress',
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(replayed.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary & { games_counted: number };
    const counts = readFileSync(calculations, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { data: { games_counted: number } }).data.games_counted);
    expect(counts).toHaveLength(summary.saga.automatic_sagas);
    expect(new Set(counts)).toEqual(new Set([summary.games_counted]));
  });

  it('npm start compiles nothing when the build is up to date', async () => {
    // `npm start` runs `prestart` first: on a built tree it must not spend seconds type-checking.
    const run = await runWithOutput('npm', ['run', '--silent', 'prestart', '--', '--verbose'], {
      cwd: resolve(dirname(CLI), '../..'),
    });

    expect(run.code).toBe(0);
    expect(run.output).toContain("Project 'tsconfig.build.json' is up to date");
  });

  it('npm start bundles nothing when the bundle is up to date', async () => {
    // `npm start` bundles the command before running it, only when the build is newer.
    const root = resolve(dirname(CLI), '../..');
    const before = statSync(CLI).mtimeMs;
    const run = await runWithOutput(process.execPath, ['tools/bundleCli.mjs'], { cwd: root });

    expect(run.code).toBe(0);
    expect(statSync(CLI).mtimeMs).toBe(before);
  });

  it('refuses an unknown saga step in --inject-fault', async () => {
    const run = await runCli(['start', '--inject-fault', 'saga:nowhere']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'unknown step "nowhere"; the RPI saga\'s steps are collect_matches, calculate_rpi, publish_results, update_cache',
    );
  });
});
