import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from '@hono/zod-openapi';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Consumers,
  DeadLetters,
  type Rankings,
  type SagaSummaries,
  type SagaTimeline,
  type StoreOverview,
  type TeamMatches,
  type Teams,
  type TeamWeekly,
} from '../../api/schemas.js';
import type { Game } from '../../domain/games/Game.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { csvField, GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { invocationRecord, invocationRecordKey } from '../../stream/consumer/invocationRecord.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import {
  browserMissing,
  launchBrowser,
  type Server,
  seriousViolations,
  startServer,
} from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { kinesisRecordOf } from '../support/kinesisRecords.js';
import { matchRecorded, registry } from '../support/registry.js';

type Json<T extends z.ZodType> = z.output<T>;

/**
 * Where the screenshots go: the README's folder when asked (`MATCHSTREAM_SCREENSHOTS=1 npx
 * vitest run test/e2e/console`), else the tests' own folder, so a test run leaves the checkout
 * as it was.
 */
const README_SHOTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/console');

const missing = browserMissing();
if (missing) console.warn(`web console tests skipped: ${missing}`);

/**
 * The web console in Debian's Chromium against `matchstream start --serve` on a generated
 * season: first a game corrected and one added whose saga was made to fail at publish_results
 * (so it compensated), then the season again (the game corrected back), rated and served.
 */
describe.runIf(missing === undefined)('the web console in Chromium', () => {
  // A folder made when the tests run (not when they are skipped), removed after them.
  let folder: string;
  let data: string;
  let SHOTS: string;
  const file = (name: string, content: string) => {
    const path = resolve(folder, name);
    writeFileSync(path, content);
    return path;
  };
  const season = generateSeason({ teams: 40, gamesPerTeam: 8, seed: 5 });
  let server: Server;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let compensated: string;
  const elsewhere: string[] = [];
  const thrown: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  /** Opens a page of the console and waits until it has loaded and drawn what it shows. */
  const open = async (hash: string) => {
    // A page load each time (not a hash change), so nothing of the last page is waited on.
    await page.goto('about:blank');
    await page.goto(`${server.url}/${hash}`);
    await page.locator('main h2').waitFor();
    await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
    await page.locator('.chart-area:empty').first().waitFor({ state: 'detached' });
  };

  beforeAll(async () => {
    folder = mkdtempSync(resolve(tmpdir(), 'matchstream-console-'));
    SHOTS = process.env.MATCHSTREAM_SCREENSHOTS ? README_SHOTS : resolve(folder, 'screenshots');
    mkdirSync(SHOTS, { recursive: true });
    data = resolve(folder, 'data');
    // Prepare: the teams with their conferences, the season rated, then a correction and a new
    // game whose saga compensates.
    const teams = file(
      'teams.csv',
      `team,conference\n${season.teams.map((t) => `${csvField(t.team)},${csvField(t.conference)}`).join('\n')}\n`,
    );
    const games = file('games.csv', rows(season.games));
    const [first, ...rest] = season.games;
    if (!first) throw new Error('no game generated');
    const last = season.games[season.games.length - 1] ?? first;
    const corrected = { ...first, homeScore: first.homeScore + 3 };
    const added: Game = {
      ...last,
      matchId: 'console-added-1',
      date: nextDay(last.date),
      homeScore: 2,
      awayScore: 1,
      decidedBy: 'regulation',
    };
    const more = file('more.csv', rows([corrected, ...rest, added]));
    expect((await runCli(['teams', 'import', teams, '--data-dir', data, '--json'])).code).toBe(0);
    const faulted = await runCli([
      'start',
      more,
      '--data-dir',
      data,
      '--inject-fault',
      'saga:publish_results',
      '--json',
      '--quiet',
    ]);
    expect(faulted.code).toBe(1);
    compensated = (JSON.parse(faulted.stdout) as { saga: { id: string } }).saga.id;
    // Then the season again (the first game's result corrected back), rated and served.
    [server, browser] = await Promise.all([
      startServer(['start', games, '--data-dir', data, '--quiet', '--serve', '--port', '0'], data),
      launchBrowser(),
    ]);
    // A batch the read models gave up on, as their mapping keeps it in failures/: a dead letter
    // (of a commit they have applied since, so a redrive skips it and removes it).
    givenUp(data, `match:${first.matchId}`);
    // The server samples its consumers' lag every 5 s from the first request for them on.
    await fetch(`${server.url}/consumers`);
    page = await browser.context.newPage();
    // Everything the pages ask for, and every error they throw, over the whole run.
    browser.context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== server.url && !['data:', 'about:'].includes(url.protocol))
        elsewhere.push(request.url());
    });
    page.on('pageerror', (error) => thrown.push(error.message));
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('shows every row of GET /rankings, sorts by keyboard and filters by search', async () => {
    // Prepare
    const rankings = await api<Json<typeof Rankings>>('/rankings?season=2026');
    const { teams } = await api<Json<typeof Teams>>('/teams');
    const conference = new Map(teams.map((t) => [t.team_id, t.conference]));

    // Act
    await open('#/');
    const shown = await tableRows(page, '#rankings');
    const calculation = await page.textContent('[data-field="calculation_id"]');
    await page.screenshot({ path: `${SHOTS}/rankings.png` });
    // The keyboard: the first Tab reaches the skip button, which moves on to the page.
    await page.keyboard.press('Tab');
    const first = await page.locator(':focus').textContent();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    const afterSkip = await page.locator(':focus').getAttribute('id');
    const outline = await page
      .locator(':focus')
      .evaluate((field) => field.ownerDocument.defaultView?.getComputedStyle(field).outlineStyle);
    await page.focus('button.sort[data-column="rpi"]');
    await page.keyboard.press('Enter');
    const rpiSort = await page.getAttribute('th:has(button[data-column="rpi"])', 'aria-sort');
    const byRpi = (await tableRows(page, '#rankings')).map((row) => Number(row.rpi));
    await page.keyboard.press('Enter');
    const rpiAscending = await page.getAttribute('th:has(button[data-column="rpi"])', 'aria-sort');
    const searched = (season.teams[0]?.conference ?? '').toLowerCase();
    await page.fill('#team-search', searched);
    const found = await tableRows(page, '#rankings');

    // Assess: every row, every column, as the API says.
    expect(calculation).toBe(rankings.calculation_id);
    expect(shown).toEqual(
      rankings.rankings.map((e) => ({
        key: e.team,
        rank: String(e.rank),
        team: e.team,
        conference: conference.get(e.team) ?? '–',
        record: `${e.wins}-${e.losses}-${e.ties}`,
        wp: fixed(e.wp),
        owp: fixed(e.owp),
        oowp: fixed(e.oowp),
        rpi: fixed(e.rpi),
      })),
    );
    expect(first).toBe('Skip to content');
    expect(afterSkip).toBe('scope-season');
    expect(outline).toBe('solid');
    expect(rpiSort).toBe('descending');
    expect(byRpi).toEqual([...byRpi].sort((a, b) => b - a));
    expect(rpiAscending).toBe('ascending');
    // The search matches a team's id, name or conference.
    const names = new Map(teams.map((t) => [t.team_id, t.name]));
    const matching = rankings.rankings.filter((e) =>
      [e.team, names.get(e.team), conference.get(e.team)].some((text) =>
        text?.toLowerCase().includes(searched),
      ),
    );
    expect(found.map((r) => r.key).sort()).toEqual(matching.map((e) => e.team).sort());
    expect(found.length).toBeLessThan(rankings.rankings.length);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows the calculation of the scope picked: an as-of day and a profile', async () => {
    // Prepare: a calculation as of a day in mid-season with another profile, by the token.
    const asOf = season.games[Math.floor(season.games.length / 2)]?.date ?? '';
    const profile = 'ncaa-soccer-2023';
    const started = await fetch(`${server.url}/sagas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ season: '2026', as_of: asOf, profile }),
    });
    expect(started.status).toBe(202);
    const { saga_id } = (await started.json()) as { saga_id: string };
    await expect
      .poll(async () => (await api<{ status: string }>(`/sagas/${saga_id}`)).status, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe('completed');
    const scoped = await api<Json<typeof Rankings>>(
      `/rankings?season=2026&as_of=${asOf}&profile=${profile}`,
    );

    // Act: pick it as a user would.
    await open('#/');
    await page.selectOption('#scope-profile', profile);
    await page.selectOption('#scope-as-of', asOf);
    await page.click('form.scope button[type="submit"]');
    await page
      .locator(`#calculation [data-field="calculation_id"]:text-is("${scoped.calculation_id}")`)
      .waitFor();
    const shown = await tableRows(page, '#rankings');

    // Assess
    expect(page.url()).toContain(`as_of=${asOf}`);
    expect(await page.textContent('[data-field="as_of"]')).toBe(asOf);
    expect(await page.textContent('[data-field="profile"]')).toBe(profile);
    expect(shown.map((r) => [r.key, r.rank, r.record, r.rpi])).toEqual(
      scoped.rankings.map((e) => [
        e.team,
        String(e.rank),
        `${e.wins}-${e.losses}-${e.ties}`,
        fixed(e.rpi),
      ]),
    );
  });

  it("shows the non-conference RPI picked, each team's unadjusted RPI and rank beside", async () => {
    // Prepare: a non-conference calculation of the season, by the token.
    const started = await fetch(`${server.url}/sagas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ season: '2026', variant: 'non-conference' }),
    });
    expect(started.status).toBe(202);
    const { saga_id } = (await started.json()) as { saga_id: string };
    await expect
      .poll(async () => (await api<{ status: string }>(`/sagas/${saga_id}`)).status, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe('completed');
    const variant = await api<Json<typeof Rankings>>(
      '/rankings?season=2026&variant=non-conference',
    );

    // Act: pick it as a user would.
    await open('#/');
    await page.selectOption('#scope-variant', 'non-conference');
    await page.click('form.scope button[type="submit"]');
    await page
      .locator(`#calculation [data-field="calculation_id"]:text-is("${variant.calculation_id}")`)
      .waitFor();
    const shown = await tableRows(page, '#rankings');
    const headings = await page
      .locator('#rankings thead th button')
      .evaluateAll((buttons) => buttons.map((b) => b.firstChild?.textContent?.trim()));
    const violations = await seriousViolations(page);

    // Assess
    expect(page.url()).toContain('variant=non-conference');
    expect(await page.textContent('[data-field="variant"]')).toBe('non-conference');
    expect(headings).toEqual(
      expect.arrayContaining(['Non-conf. RPI', 'Unadjusted RPI', 'Unadjusted rank']),
    );
    expect(shown.map((r) => [r.key, r.rank, r.rpi, r.unadjusted_rpi, r.unadjusted_rank])).toEqual(
      variant.rankings.map((e) => [
        e.team,
        e.rank === null ? '–' : String(e.rank),
        fixed(e.rpi),
        fixed(e.unadjusted_rpi),
        e.unadjusted_rank === null ? '–' : String(e.unadjusted_rank),
      ]),
    );
    expect(violations).toEqual([]);
  });

  it("charts a team's RPI and rank with a point per week of GET /teams/{id}/weekly", async () => {
    // Prepare: the team of the corrected game.
    const team = season.games[0]?.homeTeam ?? '';
    const id = encodeURIComponent(team);
    const weekly = await api<Json<typeof TeamWeekly>>(`/teams/${id}/weekly?season=2026`);
    const { matches } = await api<Json<typeof TeamMatches>>(`/teams/${id}/matches?season=2026`);

    // Act
    await open(`#/team/${id}`);
    const points = (chart: string) =>
      page.locator(`${chart} svg [role="img"][aria-label^="Week ending"]`).allTextContents();
    const rpiPoints = await page
      .locator('#rpi-chart svg [role="img"][aria-label^="Week ending"]')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label')));
    const rankPoints = await points('#rank-chart');
    const weekRows = await page.locator('#weekly-table tbody tr').count();
    const opponentRows = await page.locator('#opponents tbody tr').count();
    const statuses = await page
      .locator('#matches tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    await page.screenshot({ path: `${SHOTS}/team.png`, fullPage: true });

    // Assess
    expect(weekly.weeks.length).toBeGreaterThan(3);
    expect(rpiPoints).toHaveLength(weekly.weeks.length);
    expect(rpiPoints.map((label) => label?.slice(12, 22))).toEqual(
      weekly.weeks.map((w) => w.week_end),
    );
    expect(rankPoints).toHaveLength(weekly.weeks.length);
    expect(weekRows).toBe(weekly.weeks.length);
    expect(opponentRows).toBe(weekly.opponents.length);
    expect(statuses).toHaveLength(matches.length);
    expect(statuses).toContain('corrected');
    const corrections = matches.find((m) => m.status === 'corrected')?.corrections ?? 0;
    expect(await page.locator('#matches tr[data-status="corrected"] .badge').textContent()).toBe(
      corrections > 1 ? `corrected ${corrections} times` : 'corrected',
    );
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('compares the conferences in a chart, a point per conference', async () => {
    await open('#/conferences');
    const points = await page.locator('#conferences-chart svg [role="img"]').count();
    await page.screenshot({ path: `${SHOTS}/conferences.png`, fullPage: true });

    const conferences = new Set(season.teams.map((t) => t.conference));
    expect(points).toBe(conferences.size);
    expect(await page.locator('#conferences tbody tr').count()).toBe(conferences.size);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("shows the compensated saga's timeline: the failed attempts, then each compensation", async () => {
    // Prepare
    const timeline = await api<Json<typeof SagaTimeline>>(`/sagas/${compensated}/timeline`);
    const compensations = timeline.entries.filter((e) => e.kind === 'compensation');

    // Act
    await open(`#/saga/${compensated}`);
    const status = await page.textContent('[data-field="status"]');
    const steps = await page
      .locator('#steps tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent?.trim())),
      );
    const rows = await page
      .locator('#timeline tbody tr')
      .evaluateAll((trs) =>
        trs.map((r) => [
          r.getAttribute('data-kind'),
          r.querySelector('th')?.textContent,
          r.getAttribute('data-outcome'),
        ]),
      );
    const bars = await page
      .locator('#timeline-chart svg [role="img"]')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label') ?? ''));
    await page.screenshot({ path: `${SHOTS}/saga.png`, fullPage: true });

    // Assess: three failed attempts of publish_results, then the three compensations.
    expect(status).toBe('compensated');
    expect(steps.find((s) => s[0] === 'publish_results')).toEqual([
      'publish_results',
      'failed',
      '3',
      'rollback_publication: completed',
      'injected failure of publish_results',
    ]);
    expect(rows).toEqual(timeline.entries.map((e) => [e.kind, e.step_name, e.outcome]));
    expect(
      rows.filter(
        ([kind, step, outcome]) =>
          kind === 'step' && step === 'publish_results' && outcome === 'failed',
      ),
    ).toHaveLength(3);
    expect(compensations.map((e) => e.step_name)).toEqual([
      'publish_results',
      'calculate_rpi',
      'collect_matches',
    ]);
    expect(bars).toHaveLength(timeline.entries.length);
    expect(bars.filter((label) => label.startsWith('compensation '))).toHaveLength(
      compensations.length,
    );
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows the store, the consumers and the sagas', async () => {
    // Prepare
    const store = await api<Json<typeof StoreOverview>>('/store');
    const consumers = await api<Json<typeof Consumers>>('/consumers');
    const { sagas } = await api<Json<typeof SagaSummaries>>('/sagas?limit=50');
    const violations: Record<string, unknown> = {};
    const visit = async (hash: string, name: string) => {
      await open(hash);
      await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
      violations[name] = await seriousViolations(page);
    };

    // Act and assess, page by page.
    await visit('#/store', 'store');
    expect(await page.textContent('#events-total')).toBe(
      store.events.total.toLocaleString('en-US'),
    );
    // The read models' counts, said as such: the store may hold more.
    expect(await page.locator('p:has(#events-total)').textContent()).toMatch(
      /^[\d,]+ events applied to the read models \(what they have not applied yet, or gave up on, is not counted\)\.$/,
    );
    expect(await page.locator('#schemas tbody tr').count()).toBe(store.schemas.length);
    expect(await page.locator('#events-chart svg [role="img"]').count()).toBe(
      Object.values(store.events.by_day).reduce((n, types) => n + Object.keys(types).length, 0),
    );

    await visit('#/consumers', 'consumers');
    expect(consumers.samples.length).toBeGreaterThan(0);
    // A line per consumer.
    expect(await page.locator('#lag-chart g[aria-label="line"] path').count()).toBe(
      new Set(consumers.samples.flatMap((sample) => sample.consumers.map((c) => c.name))).size,
    );
    expect(await page.locator('#generations tbody tr').count()).toBe(
      consumers.read_models.reduce((n, model) => n + model.generations.length, 0),
    );

    await visit('#/sagas', 'sagas');
    const listed = await page
      .locator('#sagas tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(listed).toEqual(sagas.map((saga) => saga.status));
    expect(listed).toContain('compensated');

    expect(violations).toEqual({ store: [], consumers: [], sagas: [] });
  });

  it('lists the dead letters with their reasons and redrives those selected with the token', async () => {
    // Prepare
    const { letters } = await api<Json<typeof DeadLetters>>('/dead-letters');
    const refused = await fetch(`${server.url}/dead-letters/redrive`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-token', 'content-type': 'application/json' },
      body: '{"ids": []}',
    });
    const refusal = ((await refused.json()) as { error: { message: string } }).error.message;
    expect(letters).toHaveLength(1);

    // Act: a redrive with a wrong token, then with the right one.
    await open('#/dead-letters');
    const shown = await page
      .locator('#dead-letters tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.querySelector('.error-text')?.textContent));
    await page.check(`[aria-label="Select letter ${letters[0]?.id}"]`);
    await page.fill('#api-token', 'not-the-token');
    await page.screenshot({ path: `${SHOTS}/dead-letters.png`, fullPage: true });
    const violations = await seriousViolations(page);
    await page.click('text=Redrive 1 selected');
    await page.locator('#redrive-outcome:has-text("Not redriven")').waitFor();
    const wrong = await page.textContent('#redrive-outcome');
    await page.fill('#api-token', server.token);
    await page.click('text=Redrive 1 selected');
    await page.locator('#redrive-outcome', { hasText: /^\d+ redriven/ }).waitFor();
    const done = await page.textContent('#redrive-outcome');
    const after = await api<Json<typeof DeadLetters>>('/dead-letters');

    // Assess
    expect(refused.status).toBe(403);
    expect(shown).toEqual(letters.map((l) => l.error));
    expect(wrong).toBe(`Not redriven: ${refusal}`);
    expect(done).toMatch(/^0 redriven, 1 skipped \(.+\)\.$/);
    expect(after.letters).toEqual([]);
    await page.locator('#no-letters').waitFor();
    expect(violations).toEqual([]);
  });

  it("on AWS: counts each dead-letter queue, shows the list's notes, and names the command that redrives", async () => {
    // Prepare: GET /dead-letters as the deployed API answers it (checked against its schema).
    const aws = DeadLetters.parse({
      letters: [
        {
          id: 'entry-1',
          consumer: 'publish:soccer',
          kind: 'put-events-entry',
          error: 'PutEvents refused the entry: ThrottlingException',
          attempts: 3,
          failed_at: '2026-12-02T09:00:00.000Z',
          events: [{ aggregate_id: 'match:m1', sequence: 1, last_sequence: 1 }],
          unknown: null,
        },
      ],
      queues: [
        {
          queue: 'matchstream-prod-MatchEventHandlerDeadLetters',
          consumer: 'bus:match-events',
          messages: 2,
          in_flight: 0,
          redriven: true,
        },
        {
          queue: 'matchstream-prod-SagaSweepDeadLetters',
          consumer: 'saga-sweep',
          messages: 1,
          in_flight: 1,
          redriven: false,
        },
      ],
      notes: ['s3://failures: the newest 200 of 340 failure records read'],
      redrive: {
        api: false,
        command: 'matchstream dead-letters redrive --aws --stack matchstream-prod',
      },
    });
    const deployed = await browser.context.newPage();
    await deployed.route('**/dead-letters', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(aws) }),
    );
    try {
      // Act
      await deployed.goto(`${server.url}/#/dead-letters`);
      await deployed.locator('#dead-letter-queues').waitFor();
      const queues = await deployed
        .locator('#dead-letter-queues tbody tr')
        .evaluateAll((rows) =>
          rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
        );
      const violations = await seriousViolations(deployed);

      // Assess: the letter without a checkbox, no form, the command instead; each queue.
      expect(await deployed.locator('#dead-letters tbody tr').count()).toBe(1);
      expect(await deployed.locator('#dead-letters input[type="checkbox"]').count()).toBe(0);
      expect(await deployed.locator('#api-token').count()).toBe(0);
      expect(await deployed.textContent('#redrive-command code')).toBe(aws.redrive.command);
      expect(await deployed.textContent('body')).toContain(aws.notes[0]);
      expect(queues).toEqual([
        ['matchstream-prod-MatchEventHandlerDeadLetters', 'bus:match-events', '2', '0', 'redriven'],
        [
          'matchstream-prod-SagaSweepDeadLetters',
          'saga-sweep',
          '1',
          '1',
          'listed only (its next scheduled run does the work)',
        ],
      ]);
      expect(violations).toEqual([]);
    } finally {
      await deployed.close();
    }
  });

  it('follows GET /live: a result ingested into the served folder updates the rankings shown', async () => {
    // Prepare: the rankings page, connected.
    await open('#/');
    await page.locator('.live-state[data-mode="live"]').waitFor();
    const before = await page.textContent('[data-field="calculation_id"]');
    const last = season.games[season.games.length - 1];
    if (!last) throw new Error('no game generated');
    const late: Game = {
      ...last,
      matchId: 'console-live-1',
      date: nextDay(nextDay(last.date)),
      homeScore: 0,
      awayScore: 4,
      decidedBy: 'regulation',
    };
    const feed = file('late.csv', rows([late]));

    // Act: ingest through the server that holds the folder; the page is not reloaded.
    const ingest = await runCli(['ingest', feed, '--data-dir', data, '--json', '--no-progress']);
    await expect
      .poll(() => page.textContent('[data-field="calculation_id"]'), { timeout: 30_000 })
      .not.toBe(before);
    const notice = await page.textContent('#live-notice');
    const rankings = await api<Json<typeof Rankings>>('/rankings?season=2026');
    const shown = await tableRows(page, '#rankings');
    await page.screenshot({ path: `${SHOTS}/live.png` });

    // Assess
    expect(ingest.code).toBe(0);
    expect(await page.getAttribute('#live-notice', 'aria-live')).toBe('polite');
    expect(notice).toContain(rankings.calculation_id);
    expect(await page.textContent('[data-field="calculation_id"]')).toBe(rankings.calculation_id);
    expect(await page.textContent('[data-field="games_counted"]')).toBe(
      rankings.games_counted.toLocaleString('en-US'),
    );
    expect(shown.map((r) => [r.key, r.rank, r.record, r.rpi])).toEqual(
      rankings.rankings.map((e) => [
        e.team,
        String(e.rank),
        `${e.wins}-${e.losses}-${e.ties}`,
        fixed(e.rpi),
      ]),
    );
  });

  it('polls GET /rankings every 10 s where GET /live answers 501, as on AWS', async () => {
    // Prepare: a page whose /live is what API Gateway's deployment answers.
    const polling = await browser.context.newPage();
    await polling.route('**/live', (route) =>
      route.fulfill({
        status: 501,
        contentType: 'application/json',
        body: JSON.stringify({ error: { status: 501, message: 'no live stream here' } }),
      }),
    );
    try {
      // Act
      const polled = polling.waitForRequest(
        (request) => new URL(request.url()).pathname === '/rankings',
      );
      // The store page itself asks for no rankings: the request is the poll.
      await polling.goto(`${server.url}/#/store`);
      await polling.locator('.live-state[data-mode="polling"]').waitFor();

      // Assess
      expect(await polling.textContent('.live-state')).toContain('Checking every 10 s');
      expect(new URL((await polled).url()).searchParams.get('season')).toBe('2026');
    } finally {
      await polling.close();
    }
  });

  it('is usable at 375 px: nothing wider than the screen but the tables, which scroll', async () => {
    // Prepare
    await page.setViewportSize({ width: 375, height: 800 });
    const team = encodeURIComponent(season.games[0]?.homeTeam ?? '');
    const pages = [
      '#/',
      `#/team/${team}`,
      '#/conferences',
      '#/store',
      '#/consumers',
      '#/sagas',
      `#/saga/${compensated}`,
      '#/dead-letters',
    ];

    // Act
    const seen: Record<string, { width: number; violations: unknown }> = {};
    for (const hash of pages) {
      await open(hash);
      seen[hash] = {
        width: await page.locator('html').evaluate((html) => html.scrollWidth),
        violations: await seriousViolations(page),
      };
    }
    await open('#/');
    const table = await page
      .locator('section:has(> #rankings)')
      .evaluate((area) => ({ scroll: area.scrollWidth, client: area.clientWidth }));
    const navWraps = await page
      .locator('nav a')
      .evaluateAll(
        (links) => new Set(links.map((a) => Math.round(a.getBoundingClientRect().top))).size > 1,
      );
    await page.screenshot({ path: `${SHOTS}/rankings-375.png` });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Assess
    for (const hash of pages) expect(seen[hash], hash).toEqual({ width: 375, violations: [] });
    expect(table.scroll).toBeGreaterThan(table.client);
    expect(navWraps).toBe(true);
  });

  it('asked nothing of any other origin and threw no error on any page', () => {
    expect(elsewhere).toEqual([]);
    expect(thrown).toEqual([]);
  });
});

/** A table's rows as the console shows them: the row key and each cell by its column. */
function tableRows(page: Page, table: string) {
  return page.locator(`${table} tbody tr`).evaluateAll((rows) =>
    rows.map((row) => {
      const cells: Record<string, string> = { key: row.getAttribute('data-key') ?? '' };
      for (const cell of row.querySelectorAll('td[data-column]'))
        cells[cell.getAttribute('data-column') ?? ''] = cell.textContent?.trim() ?? '';
      return cells;
    }),
  );
}

/**
 * Leaves in the data folder's failures/ what the read models' mapping keeps of a batch it gave
 * up on (as Lambda's S3 on-failure destination does): one commit of `aggregateId`.
 */
function givenUp(dataDir: string, aggregateId: string) {
  const codec = new CommitCodec(registry);
  const commit = codec.build(aggregateId, 0, [
    { event_type: 'MatchRecorded', data: matchRecorded(aggregateId.replace(/^match:/, '')) },
  ]);
  const at = new Date();
  const key = invocationRecordKey(
    '0c0e5a1e-7e57-4c1e-9a51-0c1d2e3f4a5b',
    'shardId-000000000000',
    at,
  );
  const file = resolve(dataDir, 'failures', ...key.split('/'));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify(
      invocationRecord({
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:read-models',
        condition: 'RetryAttemptsExhausted',
        invokeCount: 3,
        records: [kinesisRecordOf(commit)],
        at,
      }),
    ),
  );
}

/** A games feed. */
function rows(games: readonly Game[]) {
  return `${[GAMES_CSV_HEADER, ...games.map(gameCsvRow)].join('\n')}\n`;
}

function fixed(value: number | null) {
  return value === null ? '–' : value.toFixed(4);
}

function nextDay(day: string) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}
