import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { z } from '@hono/zod-openapi';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rankings, Saga, SagaSummaries, SagaTimeline } from '../../api/schemas.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { csvField, GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { browserMissing, launchBrowser, type Server, startServer } from '../support/browser.js';
import { runCli } from '../support/cli.js';

type Json<T extends z.ZodType> = z.output<T>;

const missing = browserMissing();
if (missing) console.warn(`web console tests skipped: ${missing}`);

/**
 * The web console's state in Chromium, against `matchstream start --serve` on a season rated
 * in a profile other than the default: what its address holds, where the focus goes, which
 * scope the picker's choices show.
 */
describe.runIf(missing === undefined)("the web console's state in Chromium", () => {
  let folder: string;
  let data: string;
  const season = generateSeason({ teams: 30, gamesPerTeam: 8, seed: 11 });
  const PROFILE = 'ncaa-soccer-2023';
  let server: Server;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const thrown: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  /** Runs an RPI saga through the API, as the token's holder would, until it completes. */
  const rate = async (request: Record<string, string>) => {
    const started = await fetch(`${server.url}/sagas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify(request),
    });
    expect(started.status).toBe(202);
    const { saga_id } = (await started.json()) as { saga_id: string };
    await expect
      .poll(async () => (await api<{ status: string }>(`/sagas/${saga_id}`)).status, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe('completed');
    return saga_id;
  };

  /** Opens a page of the console and waits until it has loaded what it shows. */
  const open = async (hash: string) => {
    await page.goto('about:blank');
    await page.goto(`${server.url}/${hash}`);
    await page.locator('main h2').waitFor();
    await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
  };

  beforeAll(async () => {
    folder = mkdtempSync(resolve(tmpdir(), 'matchstream-console-state-'));
    data = resolve(folder, 'data');
    const teams = resolve(folder, 'teams.csv');
    writeFileSync(
      teams,
      `team,conference\n${season.teams.map((t) => `${csvField(t.team)},${csvField(t.conference)}`).join('\n')}\n`,
    );
    const games = resolve(folder, 'games.csv');
    writeFileSync(games, `${[GAMES_CSV_HEADER, ...season.games.map(gameCsvRow)].join('\n')}\n`);
    expect((await runCli(['teams', 'import', teams, '--data-dir', data, '--json'])).code).toBe(0);
    [server, browser] = await Promise.all([
      startServer(
        [
          'start',
          games,
          '--data-dir',
          data,
          '--profile',
          PROFILE,
          '--quiet',
          '--serve',
          '--port',
          '0',
        ],
        data,
      ),
      launchBrowser(),
    ]);
    page = await browser.context.newPage();
    page.on('pageerror', (error) => thrown.push(error.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('shows a page whose address has a stray % (a team id typed by hand) instead of a blank one', async () => {
    // Act: an id with a % that begins no escape, as typed into the address bar.
    const before = thrown.length;
    await open('#/team/100%');
    const heading = await page.textContent('main h2');
    const team = await page.locator('main [role="alert"]').first().textContent();

    // Assess: the page of team "100%", which the API does not know.
    expect(thrown.slice(before)).toEqual([]);
    expect(heading).toBe('100%, season 2026');
    expect(team).toBe('Could not load the team: unknown team "100%"');
  });

  it('keeps the focus on Show when a scope is picked by keyboard, and Back shows the last scope in the form', async () => {
    // Prepare
    await open('#/');

    // Act: the profile picked and shown by keyboard alone.
    await page.focus('#scope-profile');
    await page.selectOption('#scope-profile', PROFILE);
    await page.focus('form.scope button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/profile=/);
    await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
    const focused = await page.locator(':focus').textContent();
    const picked = await page.inputValue('#scope-profile');
    await page.goBack();
    await page.waitForURL((url) => !url.hash.includes('profile='));

    // Assess: the form follows the address once the page has rendered it (a frame or more
    // after the address changes, on a busy machine).
    expect(focused).toBe('Show');
    expect(picked).toBe(PROFILE);
    await expect.poll(() => page.inputValue('#scope-profile'), { timeout: 5_000 }).toBe('');
  });

  it("shows a day picked under the season's profile in that profile, and offers each variant only its own days", async () => {
    // Prepare: the season's profile as of one day, and its non-conference RPI as of another.
    const days = [...new Set(season.games.map((g) => g.date))].sort();
    const asOf = days[Math.floor(days.length / 2)] ?? '';
    const nonConferenceDay = days[Math.floor(days.length / 3)] ?? '';
    await rate({ season: '2026', as_of: asOf, profile: PROFILE });
    await rate({
      season: '2026',
      as_of: nonConferenceDay,
      profile: PROFILE,
      variant: 'non-conference',
    });
    const scoped = await api<Json<typeof Rankings>>(
      `/rankings?season=2026&as_of=${asOf}&profile=${PROFILE}`,
    );

    // Act: the day picked, the profile left as the season's.
    await open('#/');
    const offered = async () =>
      (await page.locator('#scope-as-of option').allTextContents()).slice(1);
    const unadjustedDays = await offered();
    await page.selectOption('#scope-variant', 'non-conference');
    const nonConferenceDays = await offered();
    await page.selectOption('#scope-variant', '');
    await page.selectOption('#scope-as-of', asOf);
    await page.click('form.scope button[type="submit"]');
    await page.waitForURL(/as_of=/);
    await page.locator('#calculation, main [role="alert"]').first().waitFor();
    const alerts = await page.locator('main [role="alert"]').allTextContents();
    const calculation = await page.locator('[data-field="calculation_id"]').allTextContents();
    const profile = await page.textContent('[data-field="profile"]');
    const shown = await shownRankings(page);
    const conferences = await openConferences(page, server.url, page.url());

    // Assess
    expect(unadjustedDays).toEqual([asOf]);
    expect(nonConferenceDays).toEqual([nonConferenceDay]);
    expect(alerts).toEqual([]);
    expect(calculation).toEqual([scoped.calculation_id]);
    expect(profile).toBe(PROFILE);
    expect(shown).toEqual(rankingsRows(scoped));
    expect(conferences).toEqual([]);
  });

  it("shows the address's scope in the picker where no published calculation has it", async () => {
    // Prepare: a day nothing was rated as of (a link made by hand, or kept from a calculation
    // since retracted), and a season that has no rankings.
    const days = [...new Set(season.games.map((g) => g.date))].sort();
    const day = days[1] ?? '';
    const fields = () =>
      Promise.all(
        ['season', 'as-of', 'division', 'profile', 'variant'].map((field) =>
          page.locator(`#scope-${field}`).evaluate((select) => {
            const chosen = (select as unknown as { selectedOptions: { text: string }[] })
              .selectedOptions[0];
            return chosen?.text ?? null;
          }),
        ),
      );

    // Act
    await open(`#/?season=2026&as_of=${day}&division=D9&variant=adjusted`);
    const scoped = await fields();
    await open('#/?season=1999');
    const otherSeason = await fields();

    // Assess: each field shows what the page shows, not an empty choice.
    expect(scoped).toEqual([
      '2026',
      `${day} (none published)`,
      'D9 (none published)',
      "The season's",
      'Adjusted (none published)',
    ]);
    expect(otherSeason).toEqual([
      '1999 (none published)',
      'Latest (whole season)',
      'All divisions',
      "The season's",
      'Unadjusted',
    ]);
  });

  it('follows an unfinished saga on its page and in the list until it ends', async () => {
    // Prepare: a saga of the served folder, answered as in progress (its first version) to the
    // console's first requests for it and for the list, as a saga still running is.
    const { sagas } = await api<Json<typeof SagaSummaries>>('/sagas?limit=50');
    const id = sagas[0]?.saga_id ?? '';
    const saga = await api<Json<typeof Saga>>(`/sagas/${id}`);
    const timeline = await api<Json<typeof SagaTimeline>>(`/sagas/${id}/timeline`);
    const running = { status: 'in_progress', finished_at: null, version: 1 };
    let sagaAsked = 0;
    let listAsked = 0;
    await page.route(`**/sagas/${id}`, async (route) => {
      sagaAsked += 1;
      if (sagaAsked > 1) return route.continue();
      return route.fulfill({ json: { ...saga, ...running } });
    });
    await page.route('**/sagas?limit=50', async (route) => {
      listAsked += 1;
      if (listAsked > 1) return route.continue();
      return route.fulfill({
        json: { sagas: sagas.map((s, i) => (i === 0 ? { ...s, ...running } : s)) },
      });
    });

    // Act
    try {
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/saga/${id}`);
      await page.locator('[data-field="status"]', { hasText: 'in progress' }).waitFor();
      await page
        .locator('[data-field="status"]', { hasText: saga.status })
        .waitFor({ timeout: 10_000 });
      await expect
        .poll(() => page.locator('#timeline tbody tr').count(), { timeout: 10_000 })
        .toBe(timeline.entries.length);
      const asked = sagaAsked;
      // Longer than the page's poll of a running saga (every second).
      await page.waitForTimeout(2_500);
      const askedAfter = sagaAsked;
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/sagas`);
      await page.locator('#sagas tbody tr:first-child[data-status="in_progress"]').waitFor();
      await page
        .locator(`#sagas tbody tr:first-child[data-status="${saga.status}"]`)
        .waitFor({ timeout: 10_000 });
      const listed = await page
        .locator('#sagas tbody tr')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')));

      // Assess: the end shown without a reload, and the finished saga asked for no more.
      expect(listed).toEqual(sagas.map((s) => s.status));
      expect(askedAfter).toBe(asked);
    } finally {
      await page.unroute(`**/sagas/${id}`);
      await page.unroute('**/sagas?limit=50');
    }
  });

  it('asks for the sagas less and less often while a saga counted as running never moves', async () => {
    // Prepare: the metrics count a saga running that the list does not show and that never
    // ends (stuck, or running where nothing reports it).
    const health = await api<{ sagas: { running: number } }>('/health');
    const asked: number[] = [];
    await page.route('**/health', async (route) => {
      asked.push(Date.now());
      return route.fulfill({ json: { ...health, sagas: { ...health.sagas, running: 1 } } });
    });

    // Act: the list open for 17 s (the next ask would come at 30 s).
    try {
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/sagas`);
      await page.locator('#sagas tbody tr').first().waitFor();
      await page.waitForTimeout(17_000);
    } finally {
      await page.goto('about:blank');
      await page.unroute('**/health');
    }

    // Assess: 2 s, 4 s, 8 s apart (every 2 s would have been 9 asks).
    const gaps = asked.slice(1).map((at, i) => at - (asked[i] ?? at));
    expect(asked.length).toBe(4);
    expect(gaps.map((gap) => Math.round(gap / 1000))).toEqual([2, 4, 8]);
  });

  it('asks for a saga less and less often on its page while it stays unfinished and does not move', async () => {
    // Prepare: a saga answered as running, at the same version, whenever asked.
    const { sagas } = await api<Json<typeof SagaSummaries>>('/sagas?limit=50');
    const id = sagas[0]?.saga_id ?? '';
    const saga = await api<Json<typeof Saga>>(`/sagas/${id}`);
    const asked: number[] = [];
    await page.route(`**/sagas/${id}`, async (route) => {
      asked.push(Date.now());
      return route.fulfill({
        json: { ...saga, status: 'in_progress', finished_at: null, version: 1 },
      });
    });

    // Act: its page open for 10 s (the next ask would come at 15 s).
    try {
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/saga/${id}`);
      await page.locator('[data-field="status"]', { hasText: 'in progress' }).waitFor();
      await page.waitForTimeout(10_000);
    } finally {
      await page.goto('about:blank');
      await page.unroute(`**/sagas/${id}`);
    }

    // Assess: 1 s, 2 s, 4 s apart (every second would have been 11 asks).
    const gaps = asked.slice(1).map((at, i) => at - (asked[i] ?? at));
    expect(gaps.map((gap) => Math.round(gap / 1000))).toEqual([1, 2, 4]);
  });

  it("shows a saga's RPI variant and division beside its season, day and profile", async () => {
    // Prepare
    const id = await rate({ season: '2026', profile: PROFILE, variant: 'non-conference' });

    // Act
    await open(`#/saga/${id}`);
    const facts = await page
      .locator('dl[aria-label="Saga"] > div')
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.querySelector('dt')?.textContent,
          row.querySelector('dd')?.textContent,
        ]),
      );

    // Assess
    expect(facts.slice(1, 6)).toEqual([
      ['Season', '2026'],
      ['As of', 'whole season'],
      ['Profile', PROFILE],
      ['Division', 'all divisions'],
      ['RPI', 'non-conference'],
    ]);
  });

  it("keeps the page's scope in a team's links to its opponents, the match list's as the opponents table's", async () => {
    // Prepare
    const team = season.teams[0]?.team ?? '';
    const query = `season=2026&profile=${PROFILE}&variant=non-conference`;

    // Act
    await open(`#/team/${encodeURIComponent(team)}?${query}`);
    const scopes = async (links: string) =>
      new Set(
        (await page.locator(links).evaluateAll((as) => as.map((a) => a.getAttribute('href')))).map(
          (link) => link?.split('?')[1],
        ),
      );
    const matchLinks = await scopes('#matches a');
    const opponentLinks = await scopes('#opponents a');

    // Assess
    expect([...matchLinks]).toEqual([query]);
    expect([...opponentLinks]).toEqual([query]);
  });

  it('says nothing is rated yet on an empty data folder, and shows the rankings once a season is ingested into it', async () => {
    // Prepare: a server of a folder that holds nothing.
    const emptyData = resolve(folder, 'empty');
    const empty = await startServer(['serve', '--data-dir', emptyData, '--port', '0'], emptyData);
    try {
      const shown = async (hash: string) => {
        await page.goto('about:blank');
        await page.goto(`${empty.url}/${hash}`);
        await page.locator('main h2').waitFor();
        await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
        return {
          heading: await page.textContent('main h2'),
          alerts: await page.locator('main [role="alert"]').allTextContents(),
          note: await page.locator('main [data-state="nothing-rated"]').count(),
        };
      };

      // Act
      const rankings = await shown('#/');
      const conferences = await shown('#/conferences');
      const team = await shown(`#/team/${encodeURIComponent(season.teams[0]?.team ?? '')}`);
      await shown('#/');
      await page.locator('.live-state[data-mode="live"]').waitFor();
      const games = resolve(folder, 'games.csv');
      expect((await runCli(['ingest', games, '--data-dir', emptyData, '--json'])).code).toBe(0);
      await page.locator('#rankings tbody tr').first().waitFor({ timeout: 30_000 });
      const after = await page.textContent('main h2');

      // Assess: what to run, no season guessed from the clock and no error; then the rankings.
      expect(rankings).toEqual({ heading: 'Rankings', alerts: [], note: 1 });
      expect(conferences).toEqual({ heading: 'Conferences', alerts: [], note: 1 });
      expect(team).toEqual({ heading: season.teams[0]?.team, alerts: [], note: 1 });
      expect(after).toBe('Rankings, season 2026');
    } finally {
      await empty.stop();
    }
  });

  it('says the seasons could not be loaded, with a way to try again, instead of guessing a season', async () => {
    // Prepare: the seasons answered with a 500, then not at all (the server unreachable).
    const asked: string[] = [];
    const onRequest = (request: { url(): string }) => asked.push(new URL(request.url()).pathname);
    page.on('request', onRequest);
    let failure: 'error' | 'unreachable' = 'error';
    await page.route('**/seasons', (route) =>
      failure === 'error'
        ? route.fulfill({
            status: 500,
            json: { error: { status: 500, message: 'internal error' } },
          })
        : route.abort('connectionrefused'),
    );
    const failed = async () => {
      const alert = page.locator('main [data-state="seasons-failed"]');
      await alert.waitFor();
      return {
        heading: await page.textContent('main h2'),
        alert: (await alert.locator('p').textContent())?.replace(/\s+/g, ' '),
        retry: await alert.getByRole('button', { name: 'Try again' }).count(),
      };
    };
    try {
      // Act
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/`);
      const error = await failed();
      failure = 'unreachable';
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/conferences`);
      const unreachable = await failed();
      const rankingsAsked = asked.filter((path) => path === '/rankings').length;
      await page.unroute('**/seasons');
      await page.getByRole('button', { name: 'Try again' }).click();
      await page.locator('#conferences tbody tr').first().waitFor({ timeout: 10_000 });

      // Assess: what went wrong, and no rankings of a season the clock made up.
      expect(error).toEqual({
        heading: 'Rankings',
        alert:
          'Could not load the seasons: internal error. A season named in the address (e.g. #/?season=2026) is shown without them.',
        retry: 1,
      });
      expect(unreachable).toMatchObject({ heading: 'Conferences', retry: 1 });
      expect(unreachable.alert).toMatch(/^Could not load the seasons: the server did not answer /);
      expect(await page.textContent('main h2')).toBe('Conferences, season 2026');
      expect(rankingsAsked).toBe(0);
    } finally {
      page.off('request', onRequest);
      await page.unroute('**/seasons');
    }
  });

  it("says a chart could not be drawn when Plot's chunk does not load (a page opened before a rebuild)", async () => {
    // Prepare: the chunk gone, as after a rebuild renamed it.
    const before = thrown.length;
    await page.route('**/assets/plot-*.js', (route) => route.fulfill({ status: 404 }));

    // Act
    try {
      await open('#/conferences');
      const note = page.locator('#conferences-chart [data-state="chart-failed"]');
      await note.waitFor({ timeout: 10_000 });
      const text = await note.textContent();
      // Another page's chart, without a reload: Chromium keeps the failed import, so it says
      // the same rather than staying empty.
      await page.unroute('**/assets/plot-*.js');
      await page.click('nav a[href^="#/store"]');
      const storeNote = await page
        .locator('#events-chart [data-state="chart-failed"]')
        .textContent({ timeout: 10_000 });

      // Assess
      expect(text).toMatch(/^The chart could not be drawn: its code did not load \(.+\)\. Reload/);
      expect(storeNote).toBe(text);
      expect(thrown.slice(before)).toEqual([]);
    } finally {
      await page.unroute('**/assets/plot-*.js');
    }
  });

  it("says under a variant that the team's record counts that variant's games, not the matches listed below", async () => {
    // Prepare: the season's non-conference RPI, and a team that played outside its conference.
    await rate({ season: '2026', profile: PROFILE, variant: 'non-conference' });
    const scoped = await api<Json<typeof Rankings>>(
      `/rankings?season=2026&profile=${PROFILE}&variant=non-conference`,
    );
    const current = await api<Json<typeof Rankings>>('/rankings?season=2026');
    const entry = scoped.rankings.find(
      (e) => e.games > 0 && e.games < (current.rankings.find((c) => c.team === e.team)?.games ?? 0),
    );
    if (!entry) throw new Error('no team with both kinds of game');
    const record = `${entry.wins}-${entry.losses}-${entry.ties}`;

    // Act
    await open(
      `#/team/${encodeURIComponent(entry.team)}?profile=${PROFILE}&variant=non-conference`,
    );
    const section = page.locator('section[aria-labelledby="rpi-heading"]');
    const shown = {
      heading: await page.textContent('#rpi-heading'),
      record: await section.locator('[data-field="record"]').textContent(),
      counted: await section.locator('[data-field="counted"]').textContent(),
    };
    await open(`#/team/${encodeURIComponent(entry.team)}`);
    const seasonCounted = await page.locator('[data-field="counted"]').count();

    // Assess
    expect(shown).toEqual({
      heading: `Record and RPI (non-conference RPI, season 2026, profile ${PROFILE})`,
      record,
      counted:
        "The record and the rates count its non-conference games; the matches below are all of the season's.",
    });
    expect(seasonCounted).toBe(0);
  });

  it("says under a variant that the team's week-by-week ratings are of the unadjusted RPI", async () => {
    // Act
    const team = encodeURIComponent(season.teams[0]?.team ?? '');
    await open(`#/team/${team}?profile=${PROFILE}&variant=non-conference`);
    const underVariant = await page.textContent('#weekly-heading');
    await open(`#/team/${team}?profile=${PROFILE}`);
    const unadjusted = await page.textContent('#weekly-heading');

    // Assess
    expect(underVariant).toBe('The season week by week, in the unadjusted RPI');
    expect(unadjusted).toBe('The season week by week');
  });

  it('fetches the rankings again when it reconnects to GET /live: what changed while the server was away is shown', async () => {
    // Prepare: the rankings page, connected; then the server stopped, a result ingested into
    // its folder, and the server started again, whose catch-up rates the season anew.
    await open('#/');
    await page.locator('.live-state[data-mode="live"]').waitFor();
    const before = await page.textContent('[data-field="calculation_id"]');
    // The console stays away until the new rankings are published: it cannot hear of them.
    await page.route('**/live', (route) => route.abort());
    const { port } = new URL(server.url);
    await server.stop();
    await page.locator('.live-state[data-mode="connecting"]').waitFor();
    const last = season.games[season.games.length - 1];
    if (!last) throw new Error('no game generated');
    const late = resolve(folder, 'late.csv');
    writeFileSync(
      late,
      `${[GAMES_CSV_HEADER, gameCsvRow({ ...last, matchId: 'console-state-late', date: nextDay(last.date) })].join('\n')}\n`,
    );
    expect((await runCli(['ingest', late, '--data-dir', data, '--json'])).code).toBe(0);
    server = await startServer(['serve', '--data-dir', data, '--port', port], data);
    await expect
      .poll(
        async () => (await api<Json<typeof Rankings>>('/rankings?season=2026')).calculation_id,
        {
          timeout: 30_000,
          interval: 250,
        },
      )
      .not.toBe(before);
    const rankings = await api<Json<typeof Rankings>>('/rankings?season=2026');

    // Act: the console reconnects.
    await page.unroute('**/live');
    await page.locator('.live-state:not([data-mode="connecting"])').waitFor({ timeout: 30_000 });
    const mode = await page.getAttribute('.live-state', 'data-mode');

    // Assess: the page shows the rankings of now, without a reload.
    expect(mode).toBe('live');
    await expect
      .poll(() => page.textContent('[data-field="calculation_id"]'), { timeout: 10_000 })
      .toBe(rankings.calculation_id);
    expect(await shownRankings(page)).toEqual(rankingsRows(rankings));
  });

  it('threw no error on any page', () => {
    expect(thrown).toEqual([]);
  });
});

/** The rankings shown: each row's team, rank and RPI as the table has them. */
function shownRankings(page: Page) {
  return page
    .locator('#rankings tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => [
        row.getAttribute('data-key'),
        row.querySelector('td[data-column="rank"]')?.textContent,
        row.querySelector('td[data-column="rpi"]')?.textContent,
      ]),
    );
}

/** The rows of `GET /rankings` as the table shows them. */
function rankingsRows(rankings: Json<typeof Rankings>) {
  return rankings.rankings.map((e) => [
    e.team,
    e.rank === null ? '–' : String(e.rank),
    e.rpi === null ? '–' : e.rpi.toFixed(4),
  ]);
}

/** The conferences page of the scope of a rankings page's address: what it alerts of. */
async function openConferences(page: Page, origin: string, rankingsPage: string) {
  const query = new URL(rankingsPage).hash.split('?')[1] ?? '';
  await page.goto(`${origin}/#/conferences?${query}`);
  await page.locator('main h2').waitFor();
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
  return page.locator('main [role="alert"]').allTextContents();
}

function nextDay(day: string) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}
