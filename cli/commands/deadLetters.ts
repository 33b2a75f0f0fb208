import type { Command } from 'commander';
import type { DeadLetterFlags, RedriveFlags } from '../actions/deadLetters.js';
import { addDeployedOptions } from '../deployedOptions.js';
import { isoInstant } from '../options.js';
import { dataDirOption } from '../storeOptions.js';

export function registerDeadLetters(program: Command): void {
  const group = program
    .command('dead-letters')
    .description('list, show and send back what the consumers and handlers gave up on')
    .addHelpText(
      'after',
      `
One view over every place failures land: on a data folder, the dead-letter table (the stream
consumers' letters, the bus targets' bus:<bus>/<rule>, the publishes' publish:<bus>, the
rebuilds' rebuild:<read model>) and failures/ (the invocation records of the consumers'
on-failure destination). A failure kept in both is one letter. Each letter has an id (12 hex
digits) that "show" and "redrive --ids" take.

With --aws, the deployed stack's places, as its output DeadLetterSources names them (--stack,
or --sources FILE): the on-failure bucket (the consumers' invocation records), the dead-letter
table (the bus router's publish:<bus>, the rebuilds' rebuild:<read model>), each bus handler's
dead-letter queue (bus:<rule>: the events its rule could not deliver or its function gave up
on), and the saga sweep's queue (listed, never redriven). A queue's messages are read without
being taken: hidden from other readers while the command runs, then visible again.

Examples:
  matchstream dead-letters list
  matchstream dead-letters list --consumer read-models --since 2026-09-01T00:00:00Z --json
  matchstream dead-letters show 3f1c0a9b2d4e
  matchstream dead-letters redrive --dry-run
  matchstream dead-letters redrive --consumer bus-router
  matchstream dead-letters list --aws --stack matchstream-prod
  matchstream dead-letters redrive --aws --stack matchstream-prod --dry-run`,
    );

  common(
    group
      .command('list')
      .description('every dead letter: id, when, who gave up, attempts, its events, why'),
  ).action(async (flags: DeadLetterFlags) => {
    const { runDeadLettersList } = await import('../actions/deadLetters.js');
    await runDeadLettersList(flags);
  });

  addDeployedOptions(
    group
      .command('show')
      .description('one dead letter, whole: where it is kept, its events, what it holds')
      .argument('<id>', 'the letter id, as "list" prints it')
      .addOption(dataDirOption('the pipeline state to look at'))
      .option('--json', 'print it as one JSON object'),
  ).action(async (id: string, flags: DeadLetterFlags) => {
    const { runDeadLettersShow } = await import('../actions/deadLetters.js');
    await runDeadLettersShow(id, flags);
  });

  common(
    group
      .command('redrive')
      .description(
        'send letters back: their events, read from the store, through the code that failed',
      )
      .option('--ids <id...>', 'only these letters (ids as "list" prints them)')
      .option('--dry-run', 'say what would be done, and change nothing')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
Each letter's events are read from the event store (never from the letter) and applied through
the consumer or handler that gave up on them: a stream consumer's own sequencer and positions,
so what it applied meanwhile is not applied again; a bus target's handler, with the bus event's
id kept; the bus publisher for a publish. What goes through is removed from every place it is
kept; what fails again is kept with the new reason and one more attempt; a letter whose events
were applied meanwhile is removed and counted skipped; one that cannot be redriven (no such
consumer runs, no rule of its name on its bus, no rebuilt generation is live) is kept and
counted skipped, with why.
Redriving again applies nothing twice.

The summary has "redriven", "still_failing" and "skipped" (each a list, with --json), and
"dry_run". Exit code 0 when no letter taken is left, 3 when some are kept (failing again, or
not redrivable) or objects of failures/ could not be read (not for a dry run), 1 when the
redrive itself failed. The data folder must not be in use by
another process (stop "serve" first).

With --aws, each letter goes through the code its function runs, built from that function's
own configuration (its environment, read with Lambda's GetFunctionConfiguration): a consumer's
invocation record through the consumer, a bus handler's queued event through the handler, a
publish through the bus router's publisher. What goes through is deleted (the object, the
table's letter, the queue's message); an object or a table's letter that fails again is
rewritten with the new reason; a queue's message that fails again is left as it is, visible
again at once. The saga sweep's letters are skipped: its next run does their work.`,
    )
    .action(async (flags: RedriveFlags) => {
      const { runDeadLettersRedrive } = await import('../actions/deadLetters.js');
      await runDeadLettersRedrive(flags);
    });
}

/** The options list and redrive share. */
function common(command: Command): Command {
  return addDeployedOptions(command)
    .addOption(dataDirOption('the pipeline state to work on'))
    .option('--consumer <name>', 'only the letters of this consumer (as "list" names it)')
    .option(
      '--since <time>',
      'only letters that failed at or after this time (ISO 8601, UTC unless it says otherwise: 2026-09-01, 2026-09-01T12:00 or 2026-09-01T14:00+02:00)',
      isoInstant,
    )
    .option('--json', 'print JSON');
}
