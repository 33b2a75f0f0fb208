import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text as readAll } from 'node:stream/consumers';
import type { Command } from 'commander';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { listInvocationRecords, s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { type DeadLetter, DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { type InspectLine, inspectDocument } from '../../stream/consumer/inspectRecords.js';
import { FolderInvocationRecords, failureFolder } from '../../stream/local/failureFolder.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { checkConsumerName } from '../folder/consumerNames.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { refuseMixedStores, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';

export interface InspectFlags extends StoreFlags {
  readonly deadLetters?: boolean;
  readonly failures?: boolean;
  readonly bucket?: string;
  readonly consumer?: string;
}

/** `matchstream inspect`: stream records, dead letters and replay files, decoded. */
export async function runInspect(
  file: string | undefined,
  flags: InspectFlags,
  command: Command,
): Promise<void> {
  refuseMixedStores(flags, command);
  const registry = SchemaRegistry.fromDirectory();
  let lines: InspectLine[];
  if (flags.bucket !== undefined && !flags.failures)
    throw new CliError('--bucket goes with --failures', EXIT.USAGE);
  if (flags.failures) {
    if (file || flags.deadLetters)
      throw new CliError('give one of a file, --dead-letters or --failures', EXIT.USAGE);
    if (flags.consumer) throw new CliError('--consumer goes with --dead-letters', EXIT.USAGE);
    if (flags.bucket !== undefined && !flags.aws && !flags.endpoint)
      throw new CliError(
        "--bucket names the on-failure bucket on AWS: add --aws (without it, the data folder's failures/ is read)",
        EXIT.USAGE,
      );
    lines = (await failures(flags)).flatMap(({ where, body }) => {
      try {
        return inspectDocument(JSON.parse(body) as unknown, registry, where);
      } catch {
        return [{ kind: 'error' as const, where, error: 'not JSON' }];
      }
    });
  } else if (flags.deadLetters) {
    if (file) throw new CliError('give a file to inspect, or --dead-letters, not both', EXIT.USAGE);
    // The stack's dead-letter table has the name CloudFormation gave it, and its failures are
    // in queues and the on-failure bucket too: one command reads them all.
    if (flags.aws)
      throw new CliError(
        'inspect --dead-letters reads a data folder or an --endpoint store; the deployed stack\'s dead letters are read with "matchstream dead-letters list --aws --stack NAME" (its table, queues and on-failure bucket)',
        EXIT.USAGE,
      );
    const all = await deadLetters(flags, registry);
    const consumer = flags.consumer;
    checkConsumerName(consumer, all);
    const letters = consumer === undefined ? all : all.filter((l) => l.consumer === consumer);
    lines = inspectDocument(letters, registry, 'dead-letters');
  } else {
    if (flags.consumer) throw new CliError('--consumer goes with --dead-letters', EXIT.USAGE);
    if (!file) throw new CliError('give a file to inspect, or --dead-letters', EXIT.USAGE);
    if (flags.aws)
      throw new CliError(
        '--aws goes with --failures (and --bucket); a file is read as it is',
        EXIT.USAGE,
      );
    lines = (await documents(file)).flatMap(
      ({ document, where }) =>
        inspectReplayed(document, registry, where) ?? inspectDocument(document, registry, where),
    );
  }
  let errors = 0;
  const out: string[] = [];
  for (const line of lines) {
    if (line.kind === 'error') {
      // The first 50 by place, as a feed's invalid rows; the count says the rest.
      if (++errors <= SHOWN_ERRORS) reportError(`${line.where}: ${line.error}`);
    } else {
      const { kind: _, ...event } = line;
      out.push(JSON.stringify(event));
    }
  }
  if (out.length > 0) await write(`${out.join('\n')}\n`);
  if (errors > 0)
    throw new CliError(
      `${counted(errors, 'record')} could not be read${errors > SHOWN_ERRORS ? ` (the first ${SHOWN_ERRORS} named)` : ''}`,
      EXIT.INVALID_INPUT,
    );
}

/** Records that could not be read named one by one; the count covers the rest. */
const SHOWN_ERRORS = 50;

/** Every dead letter of the store the flags name (a data folder is never created). */
async function deadLetters(flags: InspectFlags, registry: SchemaRegistry): Promise<DeadLetter[]> {
  if (flags.memory) return []; // a new in-memory store holds none
  if (!flags.endpoint) return withDataFolder(flags.dataDir, (reader) => reader.deadLetters());
  const opened = await openEventStore({ ...storeTarget(flags), readOnly: true }, registry);
  try {
    return await new DynamoDeadLetterQueue(opened.client).list();
  } finally {
    await opened.close();
  }
}

/** The invocation records the on-failure destination the flags name holds, with where each is. */
async function failures(flags: InspectFlags): Promise<{ where: string; body: string }[]> {
  if (flags.memory) return []; // a new in-memory runtime gave up on nothing
  if (flags.aws || flags.endpoint) {
    const bucket = flags.bucket;
    if (!bucket)
      throw new CliError(
        '--failures with --aws takes --bucket, the on-failure bucket (the stack output FailureBucket)',
        EXIT.USAGE,
      );
    const client = s3Client(flags.endpoint ? { endpoint: flags.endpoint } : {});
    try {
      return (await listInvocationRecords(client, bucket)).map(({ key, body }) => ({
        where: `s3://${bucket}/${key}`,
        body,
      }));
    } catch (error) {
      throw new CliError(
        `s3://${bucket}: cannot list the failures: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  requireDataFolder(flags.dataDir);
  const folder = failureFolder(flags.dataDir);
  return (await new FolderInvocationRecords(folder).list()).map(({ key, body }) => ({
    where: join(folder, key),
    body,
  }));
}

/**
 * A line of a file `matchstream replay` wrote, or undefined for anything else: an event of
 * `--to file:` (an envelope, brought to the latest version of its type) or an entry of the
 * `--unreadable` file (reported as what it is: a stored event that could not be read).
 */
function inspectReplayed(
  document: unknown,
  registry: SchemaRegistry,
  where: string,
): InspectLine[] | undefined {
  if (!isObject(document)) return undefined;
  if (
    typeof document.aggregate_id === 'string' &&
    typeof document.sequence === 'number' &&
    typeof document.error === 'string' &&
    typeof document.held_back === 'boolean'
  ) {
    const id = typeof document.event_id === 'string' ? ` (event ${document.event_id})` : '';
    return [
      {
        kind: 'error',
        where: `${where}: ${document.aggregate_id} sequence ${document.sequence}${id}`,
        error: document.error,
      },
    ];
  }
  if (
    typeof document.event_id === 'string' &&
    typeof document.event_type === 'string' &&
    typeof document.aggregate_id === 'string' &&
    typeof document.sequence === 'number' &&
    typeof document.version === 'number' &&
    isObject(document.data)
  ) {
    try {
      const latest = registry.latest(document.event_type).version;
      const data =
        document.version === latest
          ? document.data
          : registry.decode({
              ...registry.encode(document.event_type, document.data, document.version),
              eventType: document.event_type,
              eventId: document.event_id,
              aggregateId: document.aggregate_id,
              timestamp: String(document.timestamp),
            }).data;
      return [
        {
          kind: 'event',
          ...document,
          data,
          version: latest,
          writer_version: document.version,
          source: { replay_file: where },
        },
      ];
    } catch (error) {
      return [
        { kind: 'error', where, error: error instanceof Error ? error.message : String(error) },
      ];
    }
  }
  return undefined;
}

/** The JSON documents in a file: the whole file, or one per line. */
async function documents(file: string): Promise<{ document: unknown; where: string }[]> {
  const name = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    // Standard input as a stream: a pipe whose writer is still writing (`replay --to file:-
    // | inspect -`) has nothing to read at times, which a synchronous read fails on (EAGAIN).
    text = file === '-' ? await readAll(process.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    // One line is JSON Lines of one: its place says so, as with more lines.
    const oneLine = !text.trimEnd().includes('\n');
    return [{ document: JSON.parse(text), where: oneLine ? `${name}:1` : name }];
  } catch {
    // Not one JSON document: JSON Lines.
  }
  const lines = text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [{ document: JSON.parse(line) as unknown, where: `${name}:${i + 1}` }];
    } catch {
      return [{ document: { unreadable: true }, where: `${name}:${i + 1} (not JSON)` }];
    }
  });
  // No line of it is JSON (a CSV, a log): one line says so, not one a line.
  if (lines.length > 1 && lines.every((l) => l.where.endsWith('(not JSON)')))
    throw new CliError(
      `${name}: neither JSON nor JSON Lines: none of its ${lines.length.toLocaleString('en-US')} lines is JSON`,
      EXIT.INVALID_INPUT,
    );
  return lines;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
