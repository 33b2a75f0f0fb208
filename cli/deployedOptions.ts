import { type Command, Option } from 'commander';
import { CliError, EXIT } from './exitCodes.js';
import { endpointUrl } from './storeOptions.js';

/** The flags that point `dead-letters` at a deployed stack. */
export interface DeployedFlags {
  readonly aws?: boolean;
  readonly stack?: string;
  readonly sources?: string;
  readonly endpoint?: string;
}

/** Adds `--aws`, `--stack`, `--sources` and `--endpoint` to a `dead-letters` command. */
export function addDeployedOptions(command: Command): Command {
  return command
    .addOption(
      // A data folder named with it would be passed over without a word.
      new Option(
        '--aws',
        'the deployed stack: every place it keeps failures (credentials and region from the environment or the shared AWS config: AWS_PROFILE, AWS_REGION)',
      ).conflicts('dataDir'),
    )
    .option('--stack <name>', 'with --aws: the stack, whose output DeadLetterSources names them')
    .option(
      '--sources <file>',
      'with --aws, instead of --stack: the DeadLetterSources JSON from a file',
    )
    .option(
      '--endpoint <url>',
      'with --aws: one endpoint for every AWS service (moto), e.g. http://127.0.0.1:5000',
      endpointUrl,
    );
}

/** Whether the flags are for the deployed stack; refuses flags that do not go together. */
export function onAws(flags: DeployedFlags): boolean {
  if (!flags.aws) {
    if (flags.stack !== undefined || flags.sources !== undefined || flags.endpoint !== undefined)
      throw new CliError('--stack, --sources and --endpoint go with --aws', EXIT.USAGE);
    return false;
  }
  if (flags.stack !== undefined && flags.sources !== undefined)
    throw new CliError('give --stack or --sources, not both', EXIT.USAGE);
  if (flags.stack === undefined && flags.sources === undefined)
    throw new CliError(
      '--aws takes --stack NAME (the stack whose output DeadLetterSources names the places) or --sources FILE',
      EXIT.USAGE,
    );
  return true;
}
