import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';
import { runCliInTerminal, terminalFrames } from '../support/terminal.js';

const tmp = tempDir();
const data = tmp.path('data');

beforeAll(async () => {
  // A season of 200 teams (1,060 results): more than a thousand stored commits.
  const season = tmp.path('season.csv');
  const generated = await runCli([
    'generate',
    '--team-count',
    '200',
    '--games-per-team',
    '10',
    '--out',
    season,
  ]);
  expect(generated.code, generated.stderr).toBe(0);
  const ingested = await runCli(['ingest', season, '--data-dir', data, '--no-progress']);
  expect(ingested.code, ingested.stderr).toBe(0);
}, 120_000);

describe('matchstream status on a terminal', () => {
  it('says how many stored events it has counted so far, unless told not to', async () => {
    const shown = await runCliInTerminal(['status', '--data-dir', data]);
    const quiet = await runCliInTerminal(['status', '--data-dir', data, '--no-progress']);
    const json = await runCliInTerminal(['status', '--data-dir', data, '--json']);

    const counting = (output: string) =>
      terminalFrames(output).filter((f) => f.startsWith('counting the stored events'));
    expect(shown.code).toBe(0);
    expect(counting(shown.output)).toContain('counting the stored events: 1,000 items read');
    expect(shown.output).toContain('events       1,260 stored');
    expect(quiet.code).toBe(0);
    expect(counting(quiet.output)).toEqual([]);
    expect(json.code).toBe(0);
    expect(counting(json.output)).toEqual([]);
  }, 120_000);
});
