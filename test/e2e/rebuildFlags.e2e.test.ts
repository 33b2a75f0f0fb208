import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

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
});
