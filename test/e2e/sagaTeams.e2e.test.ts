import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readGames } from '../../feeds/readGames.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

interface StepDoc {
  step_name: string;
  status: string;
  attempts: number;
  error: string | null;
  compensation: { status: string; attempts: number; error: string | null };
}

interface SagaRun {
  id: string;
  status: string;
  failed_step: string | null;
  error: string | null;
  compensations: string[];
  steps: StepDoc[];
  rankings: {
    calculation_id: string;
    games_counted: number;
    teams: number;
    variant: string;
    top: {
      rank: number | null;
      rpi: number | null;
      unadjusted_rank: number | null;
      unadjusted_rpi: number | null;
      adjustment: number | null;
    }[];
  } | null;
  saga: { saga_type: string; status: string; steps: StepDoc[] };
}

/** A season `matchstream generate` writes into `name`: its file, its games, its teams by name. */
async function generated(name: string, teams: number, gamesPerTeam: number, seed: number) {
  const games = tmp.path(name);
  await runCli([
    'generate',
    '--teams',
    String(teams),
    '--games-per-team',
    String(gamesPerTeam),
    '--seed',
    String(seed),
    '--out',
    games,
  ]);
  const season = (await readGames(games)).games;
  return {
    games,
    season,
    teams: [...new Set(season.flatMap((g) => [g.homeTeam, g.awayTeam]))].sort(),
  };
}

describe('matchstream teams and saga: the directory and RPI sagas from the command line', () => {
  it('imports a directory, rates only its Division I games, and compensates an injected failure', async () => {
    // Prepare: a season and a directory putting the first half of its teams in Division I.
    const { games, season, teams } = await generated('games.csv', 14, 6, 8);
    const data = tmp.path('data');
    const divisionI = new Set(teams.slice(0, 7));
    const directory = tmp.file(
      'teams.csv',
      `team,conference,division,region\n${teams
        .map((t, i) => `"${t}",Conf ${i % 2},${divisionI.has(t) ? 'I' : 'II'},East`)
        .join('\n')}\n,Nowhere,I,\n`,
    );
    const store = ['--data-dir', data];

    // Act
    const imported = await runCli(['teams', 'import', directory, ...store, '--json']);
    await runCli(['ingest', games, ...store, '--json']);
    const rated = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--division',
      'I',
      ...store,
      '--json',
    ]);
    const moved = await runCli(['teams', 'update', teams[0] ?? '', '--division', 'II', ...store]);
    const failed = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      ...store,
      '--json',
      '--inject-fault',
      'saga:calculate-rpi',
    ]);
    const run = JSON.parse(rated.stdout) as SagaRun;
    const shown = await runCli(['saga', 'show', run.id, ...store]);
    const listed = await runCli(['saga', 'list', ...store, '--json']);

    // Assess
    expect(imported.code).toBe(3);
    expect(JSON.parse(imported.stdout)).toMatchObject({ teams: 14, registered: 14, rejected: 1 });
    expect(readFileSync(`${directory}.rejects.jsonl`, 'utf8')).toContain(
      `"line":${teams.length + 2},"reason":"team is missing"`,
    );
    expect(rated.code).toBe(0);
    const inDivision = season.filter((g) => divisionI.has(g.homeTeam) && divisionI.has(g.awayTeam));
    expect(run).toMatchObject({ status: 'completed', compensations: [] });
    expect(run.rankings).toEqual({
      calculation_id: expect.any(String),
      games_counted: inDivision.length,
      teams: 7,
      variant: 'unadjusted',
      top: expect.any(Array),
    });
    // The unadjusted RPI is its own unadjusted figure.
    expect(
      run.rankings?.top.every(
        (e) => e.rpi === e.unadjusted_rpi && e.rank === e.unadjusted_rank && e.adjustment === null,
      ),
    ).toBe(true);
    expect(run.saga.steps.map((s) => s.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ]);
    expect(moved.stdout).toBe(`${teams[0]}: division updated\n`);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      status: 'compensated',
      failed_step: 'calculate_rpi',
      compensations: ['rollback_calculation', 'rollback_matches'],
      rankings: null,
    });
    expect(failed.stderr).toContain('compensated after calculate_rpi failed');
    expect(shown.stdout).toMatch(/^saga [0-9a-f-]{36} \(rpi_calculation\): completed\n/);
    expect(shown.stdout).toMatch(/^ {2}update_cache +completed +1 +rollback_cache +not_run +0$/m);
    // The directory change asked for a recalculation too (a saga the pipeline started itself).
    const sagas = (JSON.parse(listed.stdout) as { sagas: { status: string }[] }).sagas;
    expect(sagas.map((s) => s.status)).toContain('compensated');
    expect(sagas.length).toBeGreaterThanOrEqual(3);
  });

  // Eight runs of the CLI, each starting its own servers: about 40 s on two idle cores.
  it('says which compensation failed when a saga is left failed, not only the step that failed first', async () => {
    // Prepare: update_cache fails for good, and so does the compensation of calculate_rpi.
    const { games } = await generated('left-failed.csv', 8, 3, 4);
    const faults = [
      '--inject-fault',
      'saga:update_cache',
      '--inject-fault',
      'saga:calculate_rpi:error:compensation',
    ];

    // Act
    const data = ['--data-dir', tmp.path('left-failed')];
    await runCli(['ingest', games, ...data]);
    const sagaStart = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      ...data,
      ...faults,
    ]);
    const start = await runCli(['start', games, '--quiet', ...faults]);

    // Assess: both name the compensation that failed, and the failure that set it off.
    expect(sagaStart.code).toBe(1);
    expect(start.code).toBe(1);
    for (const run of [sagaStart, start])
      expect(run.stderr).toMatch(
        /^matchstream: saga ([0-9a-f-]{36}) failed after update_cache failed: injected failure of update_cache, and rollback_calculation \(compensating calculate_rpi\) failed: injected failure of calculate_rpi \(compensation\); see "matchstream saga show \1"$/m,
      );
  });

  it("keeps side calculations out of the season's rankings, and fails those that count nothing, saying why", async () => {
    // Prepare: a season run to its rankings with `start` on a data folder.
    const { games, season } = await generated('side-games.csv', 12, 5, 9);
    const data = tmp.path('side-data');
    const days = season.map((g) => g.date).sort();
    const middle = days[Math.floor(days.length / 2)] ?? '';
    const store = ['--data-dir', data];
    const first = await runCli(['start', '--games', games, ...store, '--json']);

    // Act
    const dated = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--as-of',
      middle,
      ...store,
      '--json',
    ]);
    const typo = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--division',
      'Typo',
      ...store,
      '--json',
    ]);
    const early = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--as-of',
      '2020-01-01',
      ...store,
      '--json',
    ]);
    const timedOut = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--profile',
      'ncaa-hockey',
      ...store,
      '--json',
      '--inject-fault',
      'saga:calculate_rpi:timeout',
    ]);
    const again = await runCli(['start', '--games', games, ...store, '--json']);
    const timedOutRun = JSON.parse(timedOut.stdout) as SagaRun;
    const shown = await runCli(['saga', 'show', timedOutRun.id, ...store, '--json']);
    const running = await runCli(['saga', 'list', '--status', 'running', ...store, '--json']);

    // Assess: the as-of calculation has its rankings, and the season's stay the whole season's.
    expect(first.code).toBe(0);
    const before = JSON.parse(first.stdout) as {
      saga: { id: string };
      games_counted: number;
      rankings: unknown[];
    };
    expect(dated.code).toBe(0);
    expect((JSON.parse(dated.stdout) as SagaRun).rankings?.games_counted).toBe(
      days.filter((d) => d <= middle).length,
    );
    expect(again.code).toBe(0);
    const after = JSON.parse(again.stdout) as typeof before;
    expect(after.saga.id).toBe(before.saga.id);
    expect(after.games_counted).toBe(days.length);
    expect(after.rankings).toEqual(before.rankings);
    // Nothing to count: compensated at once, with why; the rankings untouched.
    for (const [run, why] of [
      [typo, 'no team of the team directory is in division "Typo"'],
      [
        early,
        `no game of season 2026 was played on or before 2020-01-01; the first was on ${days[0]}`,
      ],
    ] as const) {
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        status: 'compensated',
        failed_step: 'collect_matches',
        error: why,
        rankings: null,
        steps: [
          { step_name: 'collect_matches', status: 'failed', attempts: 1, error: why },
          {},
          {},
          {},
        ],
      });
      expect(run.stderr).toContain(why);
    }
    // One fold: the outcome and the saga document agree on the step's three attempts, and
    // show its compensation's beside them.
    expect(timedOut.code).toBe(1);
    const step = {
      step_name: 'calculate_rpi',
      status: 'failed',
      attempts: 3,
      error: 'timed out after 1000 ms',
      compensation_function: 'rollback_calculation',
      compensation: { status: 'completed', attempts: 1, error: null },
    };
    expect(timedOutRun.steps[1]).toEqual(step);
    expect(timedOutRun.saga.steps[1]).toMatchObject(step);
    expect((JSON.parse(shown.stdout) as SagaRun['saga']).steps[1]).toMatchObject(step);
    expect(JSON.parse(running.stdout)).toEqual({ sagas: [] });
  }, 180_000);

  it("computes the non-conference RPI through the saga, printing each team's unadjusted rank and RPI beside", async () => {
    // Prepare: a season, and a directory of two conferences but for one team.
    const { games, teams } = await generated('variant-games.csv', 12, 6, 3);
    const data = tmp.path('variant-data');
    const directory = tmp.file(
      'variant-teams.csv',
      // The last team without one: its games are of unknown status.
      `team,conference\n${teams.map((t, i) => `"${t}",${i === teams.length - 1 ? '' : `Conf ${i % 2}`}`).join('\n')}\n`,
    );
    const store = ['--data-dir', data];
    await runCli(['teams', 'import', directory, ...store, '--json']);
    await runCli(['ingest', games, ...store, '--json']);

    // Act
    const text = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--variant',
      'non-conference',
      ...store,
    ]);
    const json = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--variant',
      'non-conference',
      ...store,
      '--json',
    ]);
    const refused = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--variant',
      'adjusted',
      ...store,
    ]);

    // Assess
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/rollback_cache {2}.*\n\n {2}top 10 \(non-conference RPI\):\n/);
    expect(text.stderr).toContain(
      `matchstream: warning: 1 team of season 2026 without a conference in the team directory (${teams.at(-1)}): their games are left out of the non-conference figures`,
    );
    expect(text.stdout).toMatch(/rank\s+team\s+non-conference\s+unadj\. rank\s+unadj\. RPI/);
    const run = JSON.parse(json.stdout) as {
      status: string;
      rankings: {
        variant: string;
        top: {
          rank: number | null;
          rpi: number | null;
          unadjusted_rank: number | null;
          unadjusted_rpi: number | null;
        }[];
      };
      saga: { data: { variant: string } };
    };
    expect(run.status).toBe('completed');
    expect(run.saga.data.variant).toBe('non-conference');
    expect(run.rankings.variant).toBe('non-conference');
    expect(run.rankings.top).toHaveLength(10);
    expect(
      run.rankings.top.every((e) => e.unadjusted_rpi !== null && e.unadjusted_rank !== null),
    ).toBe(true);
    expect(run.rankings.top.some((e) => e.rpi !== e.unadjusted_rpi)).toBe(true);
    // What the profile cannot compute is refused before anything starts, saying what is missing.
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('needs values no published source gave');
    expect(refused.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it("rates a backlog once for the season's own scope, and says which saga ran first for another", async () => {
    // Prepare: four folders a season was only ingested into (no pipeline has run on them).
    const { games, season } = await generated('first-games.csv', 8, 3, 4);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => tmp.path(`first-${x}`)) as [
      string,
      string,
      string,
      string,
    ];
    for (const data of [a, b, c, d]) await runCli(['ingest', games, '--data-dir', data, '--json']);
    const start = (data: string, ...more: string[]) =>
      runCli(['saga', 'start', 'rpi', '--season', '2026', '--data-dir', data, ...more]);
    const listed = async (data: string) =>
      (
        JSON.parse((await runCli(['saga', 'list', '--data-dir', data, '--json'])).stdout) as {
          sagas: { saga_id: string; status: string }[];
        }
      ).sagas;
    const lastDay = season
      .map((g) => g.date)
      .sort()
      .at(-1) as string;

    // Act
    const own = await start(a, '--json');
    const ownSagas = await listed(a);
    const again = await start(a, '--json');
    const other = await start(b, '--as-of', lastDay);
    const otherAgain = await start(b, '--as-of', lastDay, '--json');
    const otherJson = await start(c, '--as-of', lastDay, '--json');
    const typo = await runCli(['saga', 'start', 'rpi', '--season', '2062', '--data-dir', d]);

    // Assess: the season's own scope takes in what catching up asked for: one saga, rating
    // every game, and nothing ran first; a second run, with nothing new, runs one more.
    expect([own.code, again.code, other.code, otherAgain.code, otherJson.code]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    const ownRun = JSON.parse(own.stdout) as SagaRun & { automatic_sagas: unknown[] };
    expect(ownRun.automatic_sagas).toEqual([]);
    expect(ownRun.rankings?.games_counted).toBe(season.length);
    expect(ownSagas).toEqual([
      expect.objectContaining({ saga_id: ownRun.id, status: 'completed' }),
    ]);
    expect((JSON.parse(again.stdout) as { automatic_sagas: unknown[] }).automatic_sagas).toEqual(
      [],
    );
    expect(await listed(a)).toHaveLength(2);
    // Another scope (as of a day) runs after the season's own recalculation, which is said on
    // one line of standard error; with nothing new to catch up on, there is none.
    const first =
      /^saga ([0-9a-f-]{36}) ran first \(completed\): the results the read models caught up on asked for it$/m.exec(
        other.stderr,
      );
    expect(first, other.stderr).not.toBeNull();
    expect(other.stdout).not.toContain(first?.[1] as string);
    expect(
      (JSON.parse(otherAgain.stdout) as { automatic_sagas: unknown[] }).automatic_sagas,
    ).toEqual([]);
    const otherRun = JSON.parse(otherJson.stdout) as SagaRun & {
      automatic_sagas: { saga_id: string; status: string }[];
    };
    expect(otherRun.automatic_sagas).toEqual([
      { saga_id: expect.any(String), status: 'completed' },
    ]);
    expect(otherRun.automatic_sagas[0]?.saga_id).not.toBe(otherRun.id);
    expect(otherJson.stderr).toBe('');
    // A season with no games fails its saga at once; the season caught up on is still rated,
    // beside it, and has ended when the command does (no saga left running in the folder).
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(
      /^saga [0-9a-f-]{36} also ran \(completed\): the results the read models caught up on asked for it$/m,
    );
    expect((await listed(d)).map((x) => x.status).sort()).toEqual(['compensated', 'completed']);
  });

  it('explains bad command lines without doing anything', async () => {
    const noChange = await runCli(['teams', 'update', 'Ash', '--memory']);
    const formula = await runCli(['teams', 'update', '=SUM(A1)', '--division', 'I', '--memory']);
    const markup = await runCli(['teams', 'update', 'Ash', '--region', '<b>North</b>', '--memory']);
    const badType = await runCli(['saga', 'start', 'elo', '--season', '2026', '--memory']);
    const noSeason = await runCli(['saga', 'start', 'rpi', '--memory']);

    expect(noChange).toMatchObject({ code: 2 });
    expect(noChange.stderr).toContain(
      'nothing to change: give --conference, --division or --region',
    );
    // Names the games feed and a team list refuse are refused here too.
    expect(formula.code).toBe(2);
    expect(formula.stderr).toBe('matchstream: team "=SUM(A1)" starts like a spreadsheet formula\n');
    expect(markup.code).toBe(2);
    expect(markup.stderr).toBe(
      'matchstream: --region "<b>North</b>" contains markup characters (< or >)\n',
    );
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('unknown saga type "elo"; there is: rpi');
    expect(noSeason.code).toBe(2);
    expect(noSeason.stderr).toContain("required option '--season <label>' not specified");
  });
});
