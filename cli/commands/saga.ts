import { type Command, Option } from 'commander';
import { DEFAULT_PROFILE_NAME, PROFILES } from '../../domain/rpi/RpiProfile.js';
import { RPI_VARIANTS } from '../../domain/rpi/rpiVariants.js';
import { currentStatus } from '../../sagas/sagaNames.js';
import type { ListFlags, ResumeFlags, ShowFlags, StartFlags } from '../actions/saga.js';
import { CliError, EXIT } from '../exitCodes.js';
import { day, faultSpec, seasonLabel, wholeNumber } from '../options.js';
import { dataDirOption } from '../storeOptions.js';

const SAGA_STATUSES = ['in_progress', 'compensating', 'completed', 'compensated', 'failed'];

export function registerSaga(program: Command): void {
  const saga = program
    .command('saga')
    .description('start and look at sagas (the RPI calculation saga)')
    .addHelpText(
      'after',
      `
The RPI calculation saga (rpi_calculation): collect_matches → calculate_rpi → publish_results →
update_cache. When a step fails for good (after its retries, timed out, or with nothing to
count), what ran is compensated in reverse: rollback_cache, rollback_publication,
rollback_calculation, rollback_matches. Its state is its events (SagaStarted, SagaStepStarted,
SagaStepCompleted, ...), so it resumes after a crash. Step names of earlier releases
(collect-matches, ...) are accepted too.`,
    );

  saga
    .command('start')
    .description('start a saga and wait for it to end')
    .argument('<type>', 'the saga: rpi')
    .requiredOption('--season <label>', 'season to rate', seasonLabel)
    .option('--as-of <date>', 'count games up to this day (YYYY-MM-DD)', day)
    .addOption(
      new Option('--profile <name>', 'RPI parameter set')
        .choices([...PROFILES.keys()])
        .default(DEFAULT_PROFILE_NAME),
    )
    .option('--division <name>', 'count only games between teams of this division of the directory')
    .addOption(
      new Option(
        '--variant <variant>',
        "which RPI: unadjusted, adjusted (bonuses and penalties, soccer profiles) or non-conference (by the directory's conferences); the unadjusted RPI is kept beside the others",
      )
        .choices(RPI_VARIANTS)
        .default('unadjusted'),
    )
    .option(
      '--adjustments <file.json>',
      'with --variant adjusted: values for the profile\'s bonus and penalty table, by tier id (README, "The RPI")',
    )
    .option(
      '--inject-fault <spec>',
      'make a step fail on purpose: saga:STEP[:error|timeout|crash][:compensation] (repeatable)',
      faultSpec,
    )
    .addOption(dataDirOption('the pipeline state to work on'))
    .addOption(
      new Option('--memory', 'an empty in-memory pipeline (for trying it out)').conflicts(
        'dataDir',
      ),
    )
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
Runs the embedded pipeline on the data folder, lets it catch up, starts the saga, waits for
it to complete (or to be compensated) and prints each step. Exit code 1 when the saga was
compensated or failed. Only a calculation of the whole season with the default profile and
every division, unadjusted, becomes the season's current rankings; one with --as-of,
--division, another --profile or --variant is kept for its scope (GET /rankings with the same
parameters serves it). Prints the top of the rankings, each team's unadjusted rank and RPI
beside the variant's.

Examples:
  matchstream saga start rpi --season 2026
  matchstream saga start rpi --season 2026 --as-of 2026-10-15 --division I
  matchstream saga start rpi --season 2026 --variant adjusted --adjustments tiers.json
  matchstream saga start rpi --season 2026 --inject-fault saga:publish_results`,
    )
    .action(async (type: string, flags: StartFlags) => {
      if (type !== 'rpi')
        throw new CliError(`unknown saga type "${type}"; there is: rpi`, EXIT.USAGE);
      const { runSagaStart } = await import('../actions/saga.js');
      await runSagaStart(flags);
    });

  saga
    .command('resume')
    .description('carry on with the sagas an interrupted run left unfinished, until each ends')
    .option(
      '--inject-fault <spec>',
      'make a step fail on purpose: saga:STEP[:error|timeout|crash][:compensation] (repeatable)',
      faultSpec,
    )
    .addOption(dataDirOption('the pipeline state to work on'))
    .option('--json', 'print the outcomes as JSON')
    .addHelpText(
      'after',
      `
Runs the embedded pipeline on the data folder, lets it catch up, and drives every saga that is
still running or compensating (a run killed in the middle of one leaves it so) until it ends:
a step cut short is run again, as its own idempotent action, or timed out and retried once its
deadline has passed. Prints each saga's outcome. Exit code 1 when one of them was compensated
or failed. A saga that a running process is driving is best left to it ("matchstream serve"
and "matchstream start --serve" resume them by themselves).

Example:
  matchstream saga resume --data-dir .matchstream`,
    )
    .action(async (flags: ResumeFlags) => {
      const { runSagaResume } = await import('../actions/saga.js');
      await runSagaResume(flags);
    });

  saga
    .command('show')
    .description("a saga's structure: status, data and each step's status")
    .argument('<id>', 'saga id')
    .addOption(dataDirOption('the pipeline state to look at'))
    .option('--json', 'print the saga as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  matchstream saga show 7e7f5d7e-faf0-5757-ac4b-019ded3540f2',
    )
    .action(async (id: string, flags: ShowFlags) => {
      const { runSagaShow } = await import('../actions/saga.js');
      await runSagaShow(id, flags);
    });

  saga
    .command('list')
    .description('the sagas, latest first')
    .option(
      '--status <status>',
      `only these: ${SAGA_STATUSES.join(', ')} (running means in_progress)`,
    )
    .option('--limit <n>', 'at most this many', wholeNumber(1, 100_000), 20)
    .addOption(dataDirOption('the pipeline state to look at'))
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      const status = flags.status === undefined ? undefined : currentStatus(flags.status);
      if (status !== undefined && !SAGA_STATUSES.includes(status))
        throw new CliError(`--status must be one of ${SAGA_STATUSES.join(', ')}`, EXIT.USAGE);
      const { runSagaList } = await import('../actions/saga.js');
      await runSagaList(status, flags);
    });
}
