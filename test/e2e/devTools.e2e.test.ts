import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist');
const CHAOS = resolve(dist, 'chaos/main.js');
const BENCH = resolve(dist, 'bench/main.js');

/**
 * `npm run chaos` and `npm run bench` take minutes to tens of minutes: an argument they do not
 * know must stop them before any work, in one line and with exit 2, not be ignored.
 */
describe('the chaos and benchmark runners refuse what they do not know', () => {
  it.each([
    [
      ['--only', 'crash-restrat'],
      /^chaos: --only names no scenario crash-restrat; the scenarios: crash-restart, .*eventbridge-faults/,
    ],
    [['--only', ','], /^chaos: --only names no scenario; the scenarios: /],
    [['--bogus'], /^chaos: Unknown option '--bogus'/],
    [['--seed', 'abc'], /^chaos: --seed needs a whole number, got "abc"/],
    [['--kills', '1.5'], /^chaos: --kills needs a whole number, got "1.5"/],
    [['--partial', '2'], /^chaos: --partial needs a rate from 0 to 1, got "2"/],
    [['large'], /^chaos: Unexpected argument 'large'/],
  ])('chaos %j', async (args, message) => {
    const run = await runCli(args, { entry: CHAOS });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('(npm run chaos -- --help)');
  });

  it.each([
    [['--bogus'], /^bench: Unknown option '--bogus'/],
    [['quick'], /^bench: Unexpected argument 'quick'/],
  ])('bench %j', async (args, message) => {
    const run = await runCli(args, { entry: BENCH });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  it('a single benchmark names the scenarios it knows, and checks its sizes', async () => {
    const unknown = await runCli(['consumer-throughpt'], {
      entry: resolve(dist, 'bench/consumer.js'),
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'unknown scenario consumer-throughpt; known: consumer-throughput, consumer-throughput-upcast, e2e-latency\n',
    );

    const events = await runCli(['consumer-throughput', '--events', 'many'], {
      entry: resolve(dist, 'bench/consumer.js'),
    });
    expect(events.code).toBe(2);
    expect(events.stderr).toBe('--events needs a whole number of at least 1, got many\n');

    const models = await runCli(['rebuild-10k', '--models', 'matchs'], {
      entry: resolve(dist, 'bench/rebuild.js'),
    });
    expect(models.code).toBe(2);
    expect(models.stderr).toBe(
      '--models names no read model matchs; the read models: matches, standings, teams, pipeline-stats\n',
    );

    const flag = await runCli(['rebuild-10k', '--no-archve'], {
      entry: resolve(dist, 'bench/rebuild.js'),
    });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^Unknown option '--no-archve'; the options: --flush-mb MB/);

    const sizes = await runCli(['abc'], { entry: resolve(dist, 'bench/recordSize.js') });
    expect(sizes.code).toBe(2);
    expect(sizes.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(sizes.stderr).toMatch(
      /^usage: node dist\/bench\/recordSize\.js \[TEAMS\] \[GAMES_PER_TEAM\]/,
    );
  });
});
