/**
 * `npm run chaos [-- --seed N --kills N --large --only S,...]`: breaks the pipeline on purpose
 * and reconciles every event. Prints one JSON summary `{seed, command, scenarios, passed,
 * events_in, events_applied, rejected, dead_lettered, lost, duplicated, divergences, kills,
 * faults_injected, seconds, figures, results}` and exits 1 on any loss, duplicate or
 * divergence. With `--large` every scenario moves at least 10,000 events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { awsFaultsScenario } from './awsFaults.js';
import { badInputScenario } from './badInput.js';
import { busFaultsScenario } from './busFaults.js';
import { concurrencyScenario } from './concurrency.js';
import { crashScenario } from './crash.js';
import { deliveryScenario } from './delivery.js';
import { INSTALL_HINT, motoFound } from './moto.js';
import { outageScenario } from './outage.js';
import { poisonedStoreScenario } from './poisonedStore.js';
import { sagaCrashScenario } from './sagaCrash.js';
import { figuresOf, type ScenarioResult, summarize } from './summary.js';

const args = process.argv.slice(2);
/** Where a run's arguments are wrong: one line on standard error, exit 2. */
const usageError = (message: string): never => {
  process.stderr.write(`chaos: ${message} (npm run chaos -- --help)\n`);
  process.exit(2);
};
const parsed = (() => {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        large: { type: 'boolean' },
        only: { type: 'string' },
        seed: { type: 'string' },
        kills: { type: 'string' },
        'saga-kills': { type: 'string' },
        throttle: { type: 'string' },
        'server-error': { type: 'string' },
        timeout: { type: 'string' },
        'lost-answer': { type: 'string' },
        partial: { type: 'string' },
      },
    }).values;
  } catch (error) {
    return usageError((error as Error).message.split('\n')[0] ?? String(error));
  }
})();
if (parsed.help) {
  process.stdout.write(
    'usage: npm run chaos -- [--seed N] [--kills N] [--saga-kills N] [--large] [--only S,...]\n' +
      '                        [--throttle R] [--server-error R] [--timeout R] [--lost-answer R]\n' +
      '                        [--partial R]\n\n' +
      '--large: every scenario moves at least 10,000 events. --only: these scenarios only.\n\n' +
      'crash-restart: runs the embedded pipeline as a child process on a data folder, SIGKILLs\n' +
      'it at seeded random moments while it ingests a season (20 times, 60 with --large),\n' +
      'restarts it, and reconciles the store, the read models (against rebuilds) and the\n' +
      'rankings (against computeRpi); then SIGKILLs a rebuild in its flushes until it\n' +
      'finishes, resumed, equal to the live generation.\n' +
      'saga-crash: SIGKILLs `matchstream saga start` at seeded AWS calls of the RPI saga\n' +
      '(6 kills, 12 with --large), in its steps and, with a step failing for good, in its\n' +
      'compensations; restarts the pipeline until the saga ends: it must end as a run never\n' +
      'killed does, each effect once.\n' +
      'concurrent-writers: 8 writers race on one stream (on each of 64 with --large); every\n' +
      'loser must get a ConcurrencyError and retry, and every change must land once.\n' +
      'bad-input: a feed of good rows mixed with random bytes, non-UTF-8 bytes, an enormous\n' +
      'field, missing columns, formula- and script-like names; then an oversized event. Every\n' +
      'bad one refused with a reason, every good row stored, the counts reconciled.\n' +
      'aws-faults: the pipeline in process with DynamoDB and Kinesis calls throttled (rate\n' +
      '0.03), failing with 500 (0.02), timing out (0.01), answered with a timeout after being\n' +
      'done (0.02), and batch calls partly failed (0.3): it must converge to the same result.\n' +
      'delivery-faults: records of the change stream put again, late and out of order, a\n' +
      'shard split and a merge mid-run: every event applied once, in order per stream.\n' +
      'poisoned-store: corrupt Avro, unknown fingerprints, an unregistered event type and an\n' +
      'item that is not a commit written into the events table: each dead-lettered with a\n' +
      'reason (a good event behind one held back with it), everything else applied, rebuilds\n' +
      'equal to the live read models.\n' +
      'dependency-outage: the read-model tables fail with 503 from the middle third of a\n' +
      "season's feed until 4 s after it, run with circuit breakers and without: the breakers\n" +
      'open and close, nothing is dead-lettered, far fewer calls reach the tables while out.\n' +
      'eventbridge-faults (needs moto_server): the deployed bus router publishes a season on\n' +
      "moto's EventBridge, its PutEvents and DynamoDB calls faulted at the aws-faults rates\n" +
      '(each kind at least once), PutEvents answering FailedEntryCount: every event on its\n' +
      "bus's queue or dead-lettered, none lost; 2 records an invocation, 100 with --large.\n" +
      'Skipped with a message where moto_server is absent, except with CI=true.\n\n' +
      'Prints a JSON summary; exits 1 on any loss, duplicate or divergence.\n',
  );
  process.exit(0);
}
type NumberOption = 'seed' | 'kills' | 'saga-kills';
type RateOption = 'throttle' | 'server-error' | 'timeout' | 'lost-answer' | 'partial';
const option = (name: NumberOption, fallback: number): number => {
  const text = parsed[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0) {
    return usageError(`--${name} needs a whole number, got "${text}"`);
  }
  return value;
};
/** A probability given as `--name 0.05`. */
const rate = (name: RateOption, fallback: number): number => {
  const text = parsed[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1)) {
    return usageError(`--${name} needs a rate from 0 to 1, got "${text}"`);
  }
  return value;
};
const large = parsed.large === true;
const seed = option('seed', Date.now() % 1_000_000);
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../cli/main.js');
const log = (line: string) => process.stderr.write(`${line}\n`);
// The sizes of a run: with --large, every scenario moves at least 10,000 events. A season of
// 1,000 teams and 18 games each is about 9,300 games; with its teams, the corrections of
// `seasonFeeds` and the sagas' events, some 10,800 events.
const season = large ? { teams: 1000, gamesPerTeam: 18 } : { teams: 16, gamesPerTeam: 4 };
const faultRates = {
  throttle: rate('throttle', 0.03),
  serverError: rate('server-error', 0.02),
  timeout: rate('timeout', 0.01),
  lostAnswer: rate('lost-answer', 0.02),
  partial: rate('partial', 0.3),
};
const kills = option('kills', large ? 60 : 20);
const sagaKills = option('saga-kills', large ? 12 : 6);
/** The scenarios in the order they run, each given a folder of its own. */
const scenarios: Record<string, (folder: string) => Promise<ScenarioResult>> = {
  'crash-restart': (folder) =>
    crashScenario({
      dir: folder,
      cli,
      seed,
      kills,
      ...(large ? season : { teams: 24, gamesPerTeam: 6 }),
      chunks: large ? 8 : 4,
      log,
    }),
  'saga-crash': (folder) =>
    sagaCrashScenario({
      dir: folder,
      cli,
      seed,
      kills: sagaKills,
      ...season,
      log,
    }),
  // 8 writers on one stream; with --large on each of 64 streams (10,240 changes): the embedded
  // store takes some 50 contested appends a second whatever the writers per stream, and 32 on
  // a stream lose 6 races per change where 8 lose 3.
  'concurrent-writers': () =>
    concurrencyScenario({ seed, writers: 8, changes: 20, streams: large ? 64 : 1 }),
  'bad-input': (folder) =>
    badInputScenario({
      dir: folder,
      cli,
      seed,
      ...(large ? { teams: 1000, gamesPerTeam: 20 } : { teams: 24, gamesPerTeam: 6 }),
    }),
  'aws-faults': () => awsFaultsScenario({ seed, ...season, rates: faultRates, log }),
  'delivery-faults': () => deliveryScenario({ seed, ...season, log }),
  'poisoned-store': () => poisonedStoreScenario({ seed, ...season, log }),
  'dependency-outage': () => outageScenario({ seed, ...season, log }),
};
/** Every scenario's name: those above, then the one that needs moto_server. */
const known = [...Object.keys(scenarios), 'eventbridge-faults'];
const only = (() => {
  if (parsed.only === undefined) return undefined;
  const names = parsed.only
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    return usageError(
      `--only ${names.length === 0 ? 'names no scenario' : `names no scenario ${unknown.join(', ')}`}; the scenarios: ${known.join(', ')}`,
    );
  }
  return new Set(names);
})();
const dir = mkdtempSync(join(tmpdir(), 'matchstream-chaos-'));
try {
  const results: ScenarioResult[] = [];
  const skipped: string[] = [];
  const timed = async (name: string, run: () => Promise<ScenarioResult>) => {
    const started = performance.now();
    log(`${name}: started`);
    const result = await run();
    const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
    const figures = figuresOf({ ...result, seconds });
    log(
      `${name}: ${result.passed ? 'passed' : 'FAILED'}, ${figures.events_in} events, ${figures.kills} kills, ${figures.faults_injected} faults, ${seconds} s`,
    );
    results.push({ ...result, seconds });
  };
  for (const [name, run] of Object.entries(scenarios)) {
    if (only && !only.has(name)) continue;
    await timed(name, () => run(join(dir, name)));
  }
  if (!only || only.has('eventbridge-faults')) {
    if (motoFound()) {
      await timed('eventbridge-faults', () =>
        // With --large, 100 records an invocation (the event source mapping's default), not
        // the 2 that make a small season's calls many.
        busFaultsScenario({
          seed,
          ...season,
          rates: faultRates,
          log,
          ...(large ? { batchSize: 100 } : {}),
        }),
      );
    } else if (process.env.CI === 'true') {
      throw new Error(`eventbridge-faults needs moto_server in CI: ${INSTALL_HINT}`);
    } else {
      const why = `eventbridge-faults skipped: moto_server not found (${INSTALL_HINT})`;
      log(why);
      skipped.push(why);
    }
  }
  const summary = {
    seed,
    command: `npm run chaos -- ${args.join(' ')}`.trim(),
    ...summarize(results),
    ...(skipped.length > 0 ? { skipped } : {}),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode =
    summary.lost + summary.duplicated + summary.divergences > 0 ||
    summary.passed < summary.scenarios
      ? 1
      : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
