import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CLI } from './cli.js';

/**
 * The browser tests' tools: Debian's Chromium driven by playwright-core (no browser download),
 * a `matchstream serve` to point it at, and axe-core's accessibility check.
 */

/** Debian's Chromium (`apt-get install chromium`), or the one `MATCHSTREAM_CHROMIUM` names. */
export const CHROMIUM = process.env.MATCHSTREAM_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or undefined when they can: where Chromium is missing
 * they are skipped with this line, except in CI (`CI=true`), where its absence fails them.
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const hint = `no Chromium at ${CHROMIUM}: the browser tests need it (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${hint}; .ci/run installs it in CI`);
  return hint;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** A browser on a fresh profile in a temporary folder; `close` ends it and removes the folder. */
export async function launchBrowser(): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), 'matchstream-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    reducedMotion: 'reduce',
    // The console must need nothing beyond its own origin.
    offline: false,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A running `matchstream serve` (or `start --serve`): its URL, token and how to stop it. */
export interface Server {
  readonly url: string;
  readonly token: string;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

/**
 * Runs `matchstream ...args` (a command that serves, with `--port 0`) until it says where it
 * listens; the token is the data folder's `api-token`.
 */
export async function startServer(args: readonly string[], dataDir: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // `start --serve` listens from the start and says when its run is done.
      const found = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (found?.[1] && stderr.includes('serving until Ctrl-C')) resolve(found[1]);
    });
    void exited.then((code) => reject(new Error(`matchstream exited ${code}: ${stderr}`)));
  });
  return {
    url,
    token: readFileSync(join(dataDir, 'api-token'), 'utf8').trim(),
    output: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The accessibility violations axe-core finds on the page (WCAG 2 A and AA) that are serious or worse. */
export async function seriousViolations(page: Page) {
  // Legacy mode runs axe in the page itself, without opening a blank page to merge the results
  // of frames: the console has no frame, and each page opened costs a second or two.
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa'])
    .setLegacyMode(true)
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
}
