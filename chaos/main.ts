/**
 * `npm run chaos [-- --seed N --kills N --large]`: breaks the pipeline on purpose and
 * reconciles every event. Prints one JSON summary `{scenarios, passed, events_in,
 * events_applied, rejected, dead_lettered, lost, duplicated, divergences}` and exits 1 on any
 * loss, duplicate or divergence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awsFaultsScenario } from './awsFaults.js';
import { badInputScenario } from './badInput.js';
import { busFaultsScenario } from './busFaults.js';
import { concurrencyScenario } from './concurrency.js';
import { crashScenario } from './crash.js';
import { deliveryScenario } from './delivery.js';
import { INSTALL_HINT, motoFound } from './moto.js';
import { poisonedStoreScenario } from './poisonedStore.js';
import { summarize } from './summary.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'usage: npm run chaos -- [--seed N] [--kills N] [--large] [--throttle R] [--server-error R]\n' +
      '                        [--timeout R] [--lost-answer R] [--partial R]\n\n' +
      'crash-restart: runs the embedded pipeline as a child process on a data folder, SIGKILLs\n' +
      'it at seeded random moments while it ingests a season (20 times, 60 with --large),\n' +
      'restarts it, and reconciles the store, the read models (against rebuilds) and the\n' +
      'rankings (against computeRpi).\n' +
      'concurrent-writers: 8 writers (32) race on one stream; every loser must get a\n' +
      'ConcurrencyError and retry, and every change must land once.\n' +
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
      'eventbridge-faults (needs moto_server): the deployed bus router publishes a season on\n' +
      "moto's EventBridge, its PutEvents and DynamoDB calls faulted at the aws-faults rates\n" +
      '(each kind at least once), PutEvents answering FailedEntryCount: every event on its\n' +
      "bus's queue or dead-lettered, none lost. Skipped with a message where moto_server is\n" +
      'absent, except with CI=true.\n\n' +
      'Prints a JSON summary; exits 1 on any loss, duplicate or divergence.\n',
  );
  process.exit(0);
}
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`chaos: ${name} needs a whole number\n`);
    process.exit(2);
  }
  return value;
};
/** A probability given as `--name 0.05`. */
const rate = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!(value >= 0 && value <= 1)) {
    process.stderr.write(`chaos: ${name} needs a rate from 0 to 1\n`);
    process.exit(2);
  }
  return value;
};
const large = args.includes('--large');
const seed = option('--seed', Date.now() % 1_000_000);
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'matchstream-chaos-'));
try {
  const crash = await crashScenario({
    dir,
    cli: join(here, '../cli/main.js'),
    seed,
    kills: option('--kills', large ? 60 : 20),
    teams: large ? 120 : 24,
    gamesPerTeam: large ? 12 : 6,
    chunks: large ? 8 : 4,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const concurrency = await concurrencyScenario({
    seed,
    writers: large ? 32 : 8,
    changes: large ? 50 : 20,
  });
  const badInput = await badInputScenario({
    dir,
    cli: join(here, '../cli/main.js'),
    seed,
    teams: large ? 120 : 24,
    gamesPerTeam: large ? 12 : 6,
  });
  const faultRates = {
    throttle: rate('--throttle', 0.03),
    serverError: rate('--server-error', 0.02),
    timeout: rate('--timeout', 0.01),
    lostAnswer: rate('--lost-answer', 0.02),
    partial: rate('--partial', 0.3),
  };
  const awsFaults = await awsFaultsScenario({
    seed,
    teams: large ? 60 : 16,
    gamesPerTeam: large ? 10 : 4,
    rates: faultRates,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const delivery = await deliveryScenario({
    seed,
    teams: large ? 60 : 16,
    gamesPerTeam: large ? 10 : 4,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const poisoned = await poisonedStoreScenario({
    seed,
    teams: large ? 60 : 16,
    gamesPerTeam: large ? 10 : 4,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const results = [crash, concurrency, badInput, awsFaults, delivery, poisoned];
  const skipped: string[] = [];
  if (motoFound()) {
    results.push(
      await busFaultsScenario({
        seed,
        teams: large ? 60 : 16,
        gamesPerTeam: large ? 10 : 4,
        rates: faultRates,
        log: (line) => process.stderr.write(`${line}\n`),
      }),
    );
  } else if (process.env.CI === 'true') {
    throw new Error(`eventbridge-faults needs moto_server in CI: ${INSTALL_HINT}`);
  } else {
    const why = `eventbridge-faults skipped: moto_server not found (${INSTALL_HINT})`;
    process.stderr.write(`${why}\n`);
    skipped.push(why);
  }
  const summary = { ...summarize(results), ...(skipped.length > 0 ? { skipped } : {}) };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode =
    summary.lost + summary.duplicated + summary.divergences > 0 ||
    summary.passed < summary.scenarios
      ? 1
      : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
