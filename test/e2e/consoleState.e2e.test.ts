import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { csvField, GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { browserMissing, launchBrowser, type Server, startServer } from '../support/browser.js';
import { runCli } from '../support/cli.js';

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
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    const picked = await page.inputValue('#scope-profile');
    await page.goBack();
    await page.waitForURL((url) => !url.hash.includes('profile='));
    const back = await page.inputValue('#scope-profile');

    // Assess
    expect(focused).toBe('Show');
    expect(picked).toBe(PROFILE);
    expect(back).toBe('');
  });

  it('threw no error on any page', () => {
    expect(thrown).toEqual([]);
  });
});
