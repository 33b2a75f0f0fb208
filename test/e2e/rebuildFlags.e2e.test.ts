import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';
import { runCliInTerminal, terminalFrames } from '../support/terminal.js';

const tmp = tempDir();

describe('matchstream rebuild --flush-mb and --page-size', () => {
  it.each([
    ['--flush-mb', '0', 'expected a number of MB above 0, at most 65536'],
    ['--flush-mb', 'lots', 'expected a number such as 0.5 or 1/3'],
    ['--page-size', '0', 'expected a whole number from 1 to 1000000'],
  ])('refuses %s %s in one line naming the option, exit 2', async (flag, value, why) => {
    const run = await runCli(['rebuild', '--projection', 'matches', flag, value]);

    expect(run.code).toBe(2);
    const [line, ...rest] = run.stderr.trimEnd().split('\n');
    expect(line).toContain(`'${flag}`);
    expect(line).toContain(why);
    expect(line).toMatch(/ \(run with --help for usage\)$/);
    expect(rest).toEqual([]);
  });

  it('documents the flush in its help', async () => {
    const run = await runCli(['rebuild', '--help']);

    expect(run.stdout).toContain('--flush-mb <mb>');
    expect(run.stdout).toContain('--page-size <commits>');
    expect(run.stdout).toMatch(/checkpoint only ever covers flushed pages/);
  });

  it('shows on a terminal the catch-up of what a folder was ingested with before it rebuilds', async () => {
    const games = tmp.path('season.csv');
    const data = tmp.path('ingested');
    const generated = await runCli(['generate', '--team-count', '12', '--out', games]);
    const ingested = await runCli(['ingest', games, '--data-dir', data, '--no-progress']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(ingested.code, ingested.stderr).toBe(0);

    const run = await runCliInTerminal(['rebuild', '--projection', 'teams', '--data-dir', data]);

    expect(run.code, run.output).toBe(0);
    const frames = terminalFrames(run.output);
    const caughtUp = frames.findIndex((f) =>
      /^catch-up: [\d,]+ events applied to the read models \(/.test(f),
    );
    expect(caughtUp, run.output).toBeGreaterThanOrEqual(0);
    expect(frames.findIndex((f) => f.startsWith('teams: generation 2'))).toBeGreaterThan(caughtUp);
  });
});
