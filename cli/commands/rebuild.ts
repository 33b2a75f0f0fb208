import { type Command, InvalidArgumentError, Option } from 'commander';
import { READ_MODEL_NAMES } from '../../pipeline/readModelNames.js';
import { DEFAULT_FLUSH_MB, MOST_WARM_UNITS } from '../../pipeline/rebuildSummary.js';
import type { RebuildCommandFlags } from '../actions/rebuild.js';
import { decimal, wholeNumber } from '../options.js';
import { dataDirOption } from '../storeOptions.js';

function readModelName(value: string): string {
  if (!(READ_MODEL_NAMES as readonly string[]).includes(value))
    throw new InvalidArgumentError(
      `unknown read model "${value}"; there are ${READ_MODEL_NAMES.join(', ')}`,
    );
  return value;
}

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description('build a new generation of a read model from the store, then switch to it')
    .option(
      '--projection <name>',
      'the read model to rebuild (with --aws --redrive, the run names it: may be left out)',
      readModelName,
    )
    .option('--verify', 'compare the new generation with the live one and report differences')
    .option(
      '--no-verify',
      'do not compare, even when the version that built the live generation built this one',
    )
    .option('--no-switch', 'build and catch up, but keep the current generation active')
    .option('--segments <n>', 'parallel scan segments', wholeNumber(1, 64), 4)
    .option(
      '--flush-mb <mb>',
      'memory the replay folds documents in before it writes them (MB of heap)',
      flushBudget,
      DEFAULT_FLUSH_MB,
    )
    .option(
      '--page-size <commits>',
      "stored commits per scan page (default: DynamoDB's 1 MB pages)",
      wholeNumber(1, 1_000_000),
    )
    .addOption(
      new Option('--source <source>', 'read the store through the archive, or scan the table')
        .choices(['archive', 'scan'])
        .default('archive'),
    )
    .addOption(dataDirOption('the pipeline state to work on'))
    .option(
      '--aws',
      "run the rebuild on AWS: the deployed stack's rebuild state machine (credentials and region from the environment or the shared AWS config: AWS_PROFILE, AWS_REGION)",
    )
    .option(
      '--state-machine <arn>',
      'with --aws: the rebuild state machine (stack output RebuildStateMachine)',
    )
    .option(
      '--warm-writes <units>',
      "with --aws: make the new generation's table ready for this many writes a second (pre-warming, charged by DynamoDB)",
      wholeNumber(1, MOST_WARM_UNITS),
    )
    .option(
      '--warm-reads <units>',
      "with --aws: make the new generation's table ready for this many reads a second (pre-warming, charged by DynamoDB)",
      wholeNumber(1, MOST_WARM_UNITS),
    )
    .option(
      '--redrive <execution-arn>',
      'with --aws: go on with a failed run from where it failed, instead of starting one',
    )
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .addHelpText(
      'after',
      `
No downtime: the pipeline runs throughout and the live generation keeps serving and updating.
The store is replayed into a new table (a parallel scan, through the positions of the consumer
that will feed it), that consumer then catches up from the stream (from the archive's end, or
from where the live read models stood when the scan began), and the active generation
switches in one write. The old generation stays, still fed, until "projections drop". An
interrupted rebuild (Ctrl-C, or a process killed outright) continues where it stopped when run
again, and ends equal to a rebuild that was never interrupted.

The replay folds pages in memory and writes them in flushes: each document the pages since
the last flush changed is written once, then the positions of the consumer that takes over.
It flushes when the folded documents take more than --flush-mb of memory (an estimate: their
JSON and what each costs beyond it), every 5 seconds at the latest, and at the end. Its
checkpoint only ever covers flushed pages, so a rebuild killed between flushes or in the
middle of one goes on from its last checkpoint.

--verify compares every document of the two generations once the new one has caught up.
A rebuild of the version that built the active generation compares them even without it:
the same logic must give the same documents, so any difference is a fault (a lost or corrupt
document), not a change; the rebuild then keeps the active generation, names the differences
and exits 1, and keeps the new generation (fed, inactive) for "projections activate" or
"projections drop". A rebuild of a new version compares only with --verify, and switches.
--no-verify compares nothing, whatever the version (on AWS, a read model too large to compare
within one function's 15 minutes: see the README's "How the AWS rebuild scales").

With --aws, the deployed stack rebuilds (the state machine its output RebuildStateMachine
names): DynamoDB exports the events table to the archive bucket (or an incremental export
after the archive's latest one), a Distributed Map applies each data file to a new
generation's table, the generation is then fed from the change stream by a mapping of its
own, compared with the active generation, and switched to. The command starts the run,
shows its progress (the step; the files applied and failed, the segments compared, the
deferred streams applied) on standard error, and prints
the summary with the same keys as the local rebuild's, and the new table's warm throughput.
Ctrl-C stops following; the run goes on (its ARN is printed). A failed run switches nothing:
--redrive <its ARN> goes on from the step that failed (the map runs only the files that
failed; the read model is the run's, --projection may be left out), or a new run continues the generation it left building; a second run of a read model
is refused while one is under way. Needs states:StartExecution, states:ListExecutions,
states:DescribeExecution, states:GetExecutionHistory, states:ListMapRuns,
states:DescribeMapRun and states:RedriveExecution on the state machine and its runs.

The new generation's table is made as warm as the active generation's (DynamoDB's warm
throughput: the reads and writes a second it serves at once), so the switch moves nothing
onto a colder table. A new table otherwise serves 4,000 writes a second at first, which
bounds the maps' writes: --warm-writes (and --warm-reads) ask for more, at DynamoDB's
pre-warming charge; warm throughput is never lowered afterwards.

Examples:
  matchstream rebuild --projection standings --verify
  matchstream rebuild --projection matches --json
  matchstream rebuild --projection matches --flush-mb 256
  matchstream rebuild --aws --state-machine <RebuildStateMachine> --projection standings
  matchstream rebuild --aws --state-machine <RebuildStateMachine> --projection matches --warm-writes 40000`,
    )
    .action(async (flags: RebuildCommandFlags, command: Command) => {
      const { runRebuild } = await import('../actions/rebuild.js');
      await runRebuild(flags, command);
    });
}

/** `--flush-mb`: a number of MB above 0 (a fraction for small tests), at most 65,536. */
function flushBudget(value: string): number {
  const mb = decimal(value);
  if (!(mb > 0 && mb <= 65_536))
    throw new InvalidArgumentError('expected a number of MB above 0, at most 65536');
  return mb;
}
