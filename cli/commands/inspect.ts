import type { Command } from 'commander';
import type { InspectFlags } from '../actions/inspect.js';
import { addStoreOptions } from '../storeOptions.js';

export function registerInspect(program: Command): void {
  addStoreOptions(
    program
      .command('inspect')
      .description('decode stream records, dead letters and replay files into events (JSON Lines)')
      .argument(
        '[file]',
        'a Lambda Kinesis event, dead letters, change records, or a file replay wrote: JSON or JSON Lines ("-" for stdin)',
      )
      .option('--dead-letters', "read the store's dead-letter table instead of a file")
      .option(
        '--failures',
        "read the batches the consumers gave up on, as Lambda's S3 on-failure destination keeps them (the data folder's failures/, or with --aws the bucket)",
      )
      .option(
        '--bucket <name>',
        'with --failures --aws (or --endpoint): the on-failure bucket (the stack output FailureBucket)',
      )
      .option('--consumer <name>', 'with --dead-letters: only this consumer'),
  )
    .addHelpText(
      'after',
      `
Prints one JSON object per event: the envelope at the latest schema version, "writer_version"
(the version it was written with) and "source" (the Kinesis record, table and, for a dead
letter, the consumer and the error; for a replay file, the file and line). It also reads what
"matchstream replay" writes: the events of --to file:PATH, and the --unreadable file, whose
entries are reported as what could not be read. What cannot be read is reported on standard
error with where it is, and the exit code is 3.

With --failures, the invocation records of the batches the consumers gave up on: on AWS the
objects the Kinesis mappings wrote to the on-failure bucket (ListObjectsV2 and GetObject under
aws/lambda/), locally the same objects the embedded mappings write under <data folder>/failures/;
each holds the whole event the function was invoked with, decoded here as the consumers decode it.

With --dead-letters on a data folder that "serve" holds, the server is asked. The deployed
stack's dead letters are read by "matchstream dead-letters list --aws --stack NAME". --consumer takes
read-models, bus-router, sagas, bus:matchstream-<bus>/<rule>, publish:matchstream-<bus>,
rebuild:<read model> or read-model:<read model>:g<N>; any other name is refused with the list.

Examples:
  matchstream inspect lambda-event.json
  matchstream inspect --dead-letters --consumer bus-router
  matchstream inspect --failures --aws --bucket <FailureBucket>
  matchstream replay --to file:events.jsonl && matchstream inspect events.jsonl
  aws sqs receive-message ... | jq -c '.Messages[].Body | fromjson' | matchstream inspect -`,
    )
    .action(async (file: string | undefined, flags: InspectFlags, command: Command) => {
      const { runInspect } = await import('../actions/inspect.js');
      await runInspect(file, flags, command);
    });
}
