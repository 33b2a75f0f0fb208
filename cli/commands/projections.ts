import { type Command, Option } from 'commander';
import type { GenerationFlags, ProjectionFlags } from '../actions/projections.js';
import { wholeNumber } from '../options.js';
import { dataDirOption } from '../storeOptions.js';

export function registerProjections(program: Command): void {
  const projections = program
    .command('projections')
    .description('read models: their generations, which one is active, drop old ones');

  awsOptions(
    projections
      .command('list')
      .description('every read model, its generations, the active one, checkpoint and lag')
      .addOption(dataDirOption('the pipeline state to look at'))
      .option(
        '--json',
        'print a list of objects (name, version, active, generations, lag_ms, ...)',
      ),
  ).action(async (flags: ProjectionFlags) => {
    const { runProjectionsList } = await import('../actions/projections.js');
    await runProjectionsList(flags);
  });

  awsOptions(
    projections
      .command('activate')
      .description('make a live generation of a read model the one queries read')
      .argument('<name>', 'read model')
      .requiredOption('--generation <n>', 'the generation', wholeNumber(1, 1_000_000))
      .addOption(dataDirOption('the pipeline state')),
  ).action(async (name: string, flags: GenerationFlags) => {
    const { runProjectionsActivate } = await import('../actions/projections.js');
    await runProjectionsActivate(name, flags);
  });

  awsOptions(
    projections
      .command('drop')
      .description('delete an old generation of a read model (never the active one)')
      .argument('<name>', 'read model')
      .requiredOption('--generation <n>', 'the generation to drop', wholeNumber(1, 1_000_000))
      .addOption(dataDirOption('the pipeline state'))
      .option(
        '--feeder <name>',
        'with --aws: the generation feeder function (stack output GenerationFeeder)',
      ),
  )
    .addHelpText(
      'after',
      `
With --aws, a generation a rebuild made on AWS (2 on) loses its event source mapping and its
alias on the generation feeder, then its table; the first generation is the stack's own table,
deleted with the stack. Run again after a failure, it finishes what it began.

Examples:
  matchstream projections drop standings --generation 1
  matchstream projections drop standings --generation 2 --aws --registry-table <RegistryTable> --feeder <GenerationFeeder>`,
    )
    .action(async (name: string, flags: GenerationFlags) => {
      const { runProjectionsDrop } = await import('../actions/projections.js');
      await runProjectionsDrop(name, flags);
    });
}

/** The options every projections command takes for the deployed registry. */
function awsOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--aws',
        'the deployed stack (credentials and region from the environment or the shared AWS config: AWS_PROFILE, AWS_REGION)',
      ).conflicts('dataDir'),
    )
    .option('--registry-table <name>', 'with --aws: the stack output RegistryTable');
}
