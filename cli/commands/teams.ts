import { type Command, InvalidArgumentError } from 'commander';
import { hasControlCharacter, MAX_NAME_LENGTH } from '../../domain/games/validateGame.js';
import type { ImportFlags, UpdateFlags } from '../actions/teams.js';
import { inputFile, wholeNumber } from '../options.js';
import { addStoreOptions } from '../storeOptions.js';

/** A commander parser for a metadata value (conference, division, region). */
function metadataValue(value: string): string {
  const v = value.trim().normalize('NFC');
  if (v === '' || v.length > MAX_NAME_LENGTH || hasControlCharacter(v))
    throw new InvalidArgumentError(`expected 1 to ${MAX_NAME_LENGTH} printable characters`);
  return v;
}

export function registerTeams(program: Command): void {
  const teams = program
    .command('teams')
    .description('team metadata: conference, division and region of each team')
    .addHelpText(
      'after',
      `
The team metadata manager: "import" and "update" append TeamRegistered for a team not seen
before and TeamMetadataUpdated for a change (nothing when the metadata is the same). The
metadata bus carries them to the team directory, which "saga start rpi --division" and
"start --division" count games by; a team changing division asks for a recalculation.`,
    );

  addStoreOptions(
    teams
      .command('import')
      .description('register or update teams from a CSV (team, conference, division, region)')
      .argument(
        '<file>',
        'CSV with a header (team or name; conference, division, region optional) or JSON Lines',
        inputFile,
      )
      .option('--concurrency <n>', 'teams written at once', wholeNumber(1, 64), 8)
      .option(
        '--rejects <file>',
        'where bad rows go, one JSON object a line (default: <file>.rejects.jsonl; "-": standard output)',
      )
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
Empty cells leave a field as it is. Bad rows (no team, a team listed twice, control characters,
over ${MAX_NAME_LENGTH} characters) go to the rejects file with their line and reason; the good
rows all go in. Exit codes: 0 every row accepted; 3 some rows rejected; 1 the store failed.

Examples:
  matchstream teams import teams.csv
  matchstream teams import teams.csv --memory --json`,
    )
    .action(async (file: string, flags: ImportFlags, command: Command) => {
      const { runTeamsImport } = await import('../actions/teams.js');
      await runTeamsImport(file, flags, command);
    });

  addStoreOptions(
    teams
      .command('update')
      .description("change a team's conference, division or region")
      .argument('<team>', 'the team, as named in the games feeds')
      .option('--conference <name>', 'the new conference', metadataValue)
      .option('--division <name>', 'the new division (e.g. I, II, III)', metadataValue)
      .option('--region <name>', 'the new region', metadataValue)
      .option('--json', 'print the outcome as JSON'),
  )
    .addHelpText(
      'after',
      `
Registers the team if it is new. A changed division asks the pipeline (when it runs) to
recalculate every season with published rankings.

Examples:
  matchstream teams update "Blackhill University" --division II
  matchstream teams update "West Stonestead State" --conference "Big Coast" --region West`,
    )
    .action(async (team: string, flags: UpdateFlags, command: Command) => {
      const { runTeamsUpdate } = await import('../actions/teams.js');
      await runTeamsUpdate(team, flags, command);
    });
}
