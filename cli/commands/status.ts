import type { Command } from 'commander';
import type { StatusFlags } from '../actions/status.js';
import { dataDirOption } from '../storeOptions.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'events stored, lag per consumer, dead letters, circuit breakers and the last saga',
    )
    .addOption(dataDirOption('the pipeline state to look at'))
    .option('--json', 'print JSON')
    .option('--no-progress', 'no progress on standard error, even on a terminal')
    .addHelpText(
      'after',
      `
"events" counts what the event store holds; "applied" what the read models have applied of
it ("pending": the rest, applied when a pipeline runs on the folder: start, serve, saga start).
"breakers" lists each circuit breaker that ever opened, as the pipeline last wrote it: open
(work around that dependency held, with the time of its next trial) or closed again.
Counting reads every event of the store: on a terminal, standard error shows how many so far.
While serve holds the folder, the server is asked. A folder that does not exist is an error.
A change stream that cannot be read (its store damaged): the rest is shown, the lag as
unknown, and the command exits 1 saying why.`,
    )
    .action(async (flags: StatusFlags) => {
      const { runStatus } = await import('../actions/status.js');
      await runStatus(flags);
    });
}
