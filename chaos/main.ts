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
import { crashScenario } from './crash.js';
import { summarize } from './summary.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'usage: npm run chaos -- [--seed N] [--kills N] [--large]\n\n' +
      'Runs the embedded pipeline as a child process on a data folder, SIGKILLs it at seeded\n' +
      'random moments while it ingests a season (at least 20 times), restarts it, and\n' +
      'reconciles the store, the read models (against rebuilds) and the rankings (against\n' +
      'computeRpi). Prints a JSON summary; exits 1 on any loss, duplicate or divergence.\n',
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
const large = args.includes('--large');
const seed = option('--seed', Date.now() % 1_000_000);
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'matchstream-chaos-'));
try {
  const result = await crashScenario({
    dir,
    cli: join(here, '../cli/main.js'),
    seed,
    kills: option('--kills', large ? 60 : 20),
    teams: large ? 120 : 24,
    gamesPerTeam: large ? 12 : 6,
    chunks: large ? 8 : 4,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const summary = summarize([result]);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode =
    summary.lost + summary.duplicated + summary.divergences > 0 || summary.passed < 1 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
