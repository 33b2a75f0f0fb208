/**
 * Bad input among good: a feed where valid rows are mixed with random bytes, bytes that are
 * not UTF-8, an enormous field, missing columns, formula- and script-like names and a broken
 * score, ingested with `matchstream ingest`; then an event too large for the store. Every bad
 * row must be in the rejects file with a reason, every good row stored, the oversized event
 * refused with an error naming it, and the counts must reconcile.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSeason } from '../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../feeds/writeGames.js';
import { openEventStore } from '../stream/local/openEventStore.js';
import { runMatchstream } from './command.js';
import { type Rng, seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface BadInputOptions {
  readonly dir: string;
  readonly cli: string;
  readonly seed: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
}

/** The bad rows, each as the bytes of one line. */
function badLines(rng: Rng): { kind: string; bytes: Buffer }[] {
  const random = Buffer.from(
    Array.from({ length: 60 }, () => {
      const b = Math.floor(rng() * 256);
      // Keep it one line: no line breaks inside.
      return b === 0x0a || b === 0x0d ? 0x20 : b;
    }),
  );
  const row = (cells: string) => Buffer.from(cells, 'utf8');
  return [
    { kind: 'random bytes', bytes: random },
    {
      kind: 'not UTF-8',
      bytes: Buffer.concat([
        row('b1,2026,2026-09-05,Caf'),
        Buffer.from([0xe9]),
        row(' United,North Harbor State,1,0,false,regulation,'),
      ]),
    },
    {
      kind: 'enormous field',
      bytes: row(
        `b2,2026,2026-09-05,${'X'.repeat(200_000)},North Harbor State,1,0,false,regulation,`,
      ),
    },
    { kind: 'missing columns', bytes: row('b3,2026,2026-09-05') },
    {
      kind: 'formula',
      bytes: row(
        'b4,2026,2026-09-05,"=HYPERLINK(""http://x"")",North Harbor State,1,0,false,regulation,',
      ),
    },
    {
      kind: 'script',
      bytes: row(
        'b5,2026,2026-09-05,<script>alert(1)</script>,North Harbor State,1,0,false,regulation,',
      ),
    },
    { kind: 'bad score', bytes: row('b6,2026,2026-09-05,Alpha,Beta,two,0,false,regulation,') },
  ];
}

export async function badInputScenario(options: BadInputOptions): Promise<ScenarioResult> {
  const rng = seededRng(options.seed);
  const season = generateSeason({
    teams: options.teams,
    gamesPerTeam: options.gamesPerTeam,
    seed: options.seed,
  });
  const good = season.games.map((g, i) => Buffer.from(gameCsvRow({ ...g, matchId: `g${i}` })));
  const bad = badLines(rng);
  // The bad rows scattered among the good ones, at seeded places.
  const lines: Buffer[] = [...good];
  for (const b of bad) lines.splice(Math.floor(rng() * (lines.length + 1)), 0, b.bytes);
  mkdirSync(options.dir, { recursive: true });
  const feed = join(options.dir, 'fuzzed.csv');
  const rejects = join(options.dir, 'fuzzed.rejects.jsonl');
  const data = join(options.dir, 'data');
  writeFileSync(
    feed,
    Buffer.concat([
      Buffer.from(`${GAMES_CSV_HEADER}\n`),
      ...lines.flatMap((l) => [l, Buffer.from('\n')]),
    ]),
  );
  const run = await runMatchstream(options.cli, [
    'ingest',
    feed,
    '--data-dir',
    data,
    '--rejects',
    rejects,
    '--json',
    '--no-progress',
  ]);
  const summary = JSON.parse(run.stdout || '{}') as {
    read?: number;
    appended?: number;
    rejected?: number;
    failed?: number;
    events_appended?: number;
  };
  const rejected = readFileSync(rejects, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { line?: number; reason?: string; reasons?: string[] });
  const withReason = rejected.filter(
    (r) => (r.reason ?? r.reasons?.join('; ') ?? '').length > 0 && typeof r.line === 'number',
  ).length;

  // An event over the store's item limit: refused, naming the stream, nothing written. Its
  // name is seeded noise, which gzip (the store's encoding of data from 64 KB) cannot shrink
  // under the limit: 600,000 characters of 64 kinds, about 450 KB gzipped.
  const noise = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const oversizedName = Array.from(
    { length: 600_000 },
    () => noise[Math.floor(rng() * noise.length)],
  ).join('');
  const opened = await openEventStore({ dataDir: data });
  let oversized = 'accepted';
  let storedBefore = 0;
  let storedAfter = 0;
  try {
    for await (const page of opened.store.readAll()) storedBefore += page.length;
    try {
      await opened.store.append('team:Oversized', 0, [
        {
          event_type: 'TeamRegistered',
          data: {
            team_id: 'Oversized',
            name: oversizedName,
            conference: null,
            division: null,
            region: null,
          },
        },
      ]);
    } catch (error) {
      oversized = error instanceof Error ? error.message : String(error);
    }
    for await (const page of opened.store.readAll()) storedAfter += page.length;
  } finally {
    await opened.close();
  }
  const oversizedRefused = oversized !== 'accepted' && oversized.includes('team:Oversized');
  const appended = summary.appended ?? 0;
  const lost = good.length - appended;
  const rowsIn = good.length + bad.length;
  return {
    scenario: 'bad-input',
    seed: options.seed,
    passed:
      run.code === 3 &&
      lost === 0 &&
      summary.rejected === bad.length &&
      withReason === bad.length &&
      oversizedRefused &&
      storedAfter === storedBefore &&
      rowsIn === appended + (summary.rejected ?? 0),
    events_in: rowsIn + 1,
    events_applied: appended,
    rejected: (summary.rejected ?? 0) + (oversizedRefused ? 1 : 0),
    dead_lettered: 0,
    lost: Math.max(0, lost) + (storedAfter === storedBefore ? 0 : storedAfter - storedBefore),
    duplicated: Math.max(0, -lost),
    divergences: withReason === bad.length ? 0 : bad.length - withReason,
    // The bad rows, and the oversized event.
    faults_injected: bad.length + 1,
    details: {
      good_rows: good.length,
      bad_rows: bad.map((b) => b.kind),
      ingest_exit: run.code,
      rejects_with_reason: withReason,
      reasons: rejected.map((r) => (r.reason ?? r.reasons?.join('; ') ?? '').slice(0, 120)),
      oversized_event: oversized.slice(0, 200),
    },
  };
}
