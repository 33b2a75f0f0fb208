import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { type InspectLine, inspectDocument } from '../../stream/consumer/inspectRecords.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { addStoreOptions, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';

interface InspectFlags extends StoreFlags {
  readonly deadLetters?: boolean;
  readonly consumer?: string;
}

export function registerInspect(program: Command): void {
  addStoreOptions(
    program
      .command('inspect')
      .description('decode stream records and dead letters into events (JSON Lines)')
      .argument(
        '[file]',
        'a Lambda Kinesis event, dead letters or change records: JSON or JSON Lines ("-" for stdin)',
      )
      .option('--dead-letters', "read the store's dead-letter table instead of a file")
      .option('--consumer <name>', 'with --dead-letters: only this consumer'),
  )
    .addHelpText(
      'after',
      `
Prints one JSON object per event: the envelope at the latest schema version, "writer_version"
(the version it was written with) and "source" (the Kinesis record, table and, for a dead
letter, the consumer and the error). Records that cannot be read are reported on standard
error with where they are, and the exit code is 3.

Examples:
  matchstream inspect lambda-event.json
  matchstream inspect --dead-letters --consumer router
  aws sqs receive-message ... | jq -c '.Messages[].Body | fromjson' | matchstream inspect -`,
    )
    .action(async (file: string | undefined, flags: InspectFlags) => {
      await runInspect(file, flags);
    });
}

async function runInspect(file: string | undefined, flags: InspectFlags): Promise<void> {
  const registry = SchemaRegistry.fromDirectory();
  let lines: InspectLine[];
  if (flags.deadLetters) {
    const opened = await openEventStore(storeTarget(flags), registry);
    try {
      const letters = await new DynamoDeadLetterQueue(opened.client).list(flags.consumer);
      lines = inspectDocument(letters, registry, 'dead-letters');
    } finally {
      await opened.close();
    }
  } else {
    if (!file) throw new CliError('give a file to inspect, or --dead-letters', EXIT.USAGE);
    lines = documents(file).flatMap(({ document, where }) =>
      inspectDocument(document, registry, where),
    );
  }
  let errors = 0;
  const out: string[] = [];
  for (const line of lines) {
    if (line.kind === 'error') {
      errors++;
      process.stderr.write(`${line.where}: ${line.error}\n`);
    } else {
      const { kind: _, ...event } = line;
      out.push(JSON.stringify(event));
    }
  }
  if (out.length > 0) await write(`${out.join('\n')}\n`);
  if (errors > 0)
    throw new CliError(
      `${errors} record${errors > 1 ? 's' : ''} could not be read`,
      EXIT.INVALID_INPUT,
    );
}

/** The JSON documents in a file: the whole file, or one per line. */
function documents(file: string): { document: unknown; where: string }[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(
      `${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return [{ document: JSON.parse(text), where: file }];
  } catch {
    // Not one JSON document: JSON Lines.
  }
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [{ document: JSON.parse(line) as unknown, where: `${file}:${i + 1}` }];
    } catch {
      return [{ document: { unreadable: true }, where: `${file}:${i + 1} (not JSON)` }];
    }
  });
}
