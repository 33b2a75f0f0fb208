import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { generationConsumer } from '../../projections/ReadModelRegistry.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { ArchivedEventStore } from '../../stream/archive/ArchivedEventStore.js';
import { S3Storage } from '../../stream/archive/ArchiveStorage.js';
import type { ManifestFile } from '../../stream/archive/exportFormat.js';
import { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../../stream/consumer/DynamoPositionStore.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import { applyDeferredStreams, applyExportFile, type ExportFilePart } from '../archiveReplay.js';
import { READ_MODELS } from '../readModels.js';
import { DEFAULT_FLUSH_MB } from '../rebuildSummary.js';
import { deployedEventStore } from '../seasons.js';
import { type ConsumerEnv, required } from './consumers.js';

/** The generation a rebuild builds: its read model, number and table. */
export interface GenerationTarget {
  readonly projection: string;
  readonly generation: number;
  readonly table: string;
}

/**
 * One iteration of the rebuild's Distributed Map: a line of the export's
 * `manifest-files.json` (the item the map reads) with the bucket and the generation, which
 * the map's item selector adds from the execution's input.
 */
export interface RebuildFileInput extends GenerationTarget {
  readonly bucket: string;
  readonly file: ManifestFile;
  /** What the earlier calls on the file did (none at the first): the map's loop passes it. */
  readonly progress?: ExportFilePart;
}

/**
 * A call's output: its input with the file's progress so far (the totals of every call on
 * it), and whether the file is done; the map calls again until it is.
 */
export interface RebuildFileOutput extends RebuildFileInput {
  readonly progress: ExportFilePart;
  readonly done: boolean;
}

/**
 * How long one call applies a file before it flushes and returns where it got to (the
 * function's timeout is 15 minutes; a flush of the default 64 MB budget takes well under a
 * minute at a new table's 4,000 writes a second).
 */
export const FILE_BUDGET_MS = 10 * 60_000;

/** After the files of an export: the streams they deferred, to apply by one writer. */
export interface DeferredStreamsInput extends GenerationTarget {
  readonly streams: readonly string[];
}

/**
 * The rebuild's per-file work on AWS, from the function's environment (`EVENTS_TABLE`,
 * `POSITIONS_TABLE`, `DEAD_LETTERS_TABLE`, and `FLUSH_MB`, the fold budget): the same
 * `applyExportFile` the local rebuild runs over its folder, here over the archive bucket,
 * writing the new generation's table and the positions of the consumer that feeds it next.
 * Events that cannot be read are dead-lettered under `rebuild:<read model>`.
 */
export function rebuildFileHandlers(
  env: ConsumerEnv,
  clients: {
    readonly dynamo: DynamoDBClient;
    readonly s3: S3Client;
    /** @default Date.now */
    readonly now?: () => number;
    /** How long a call applies a file. @default FILE_BUDGET_MS */
    readonly fileBudgetMs?: number;
    /** Items a page of a file holds at most. @default 1000 */
    readonly filePageItems?: number;
  },
) {
  const now = clients.now ?? Date.now;
  const registry = SchemaRegistry.fromDirectory();
  // With ARCHIVE_BUCKET, the expired seasons' streams are read from the archive as well.
  const events = deployedEventStore(
    env,
    { client: clients.dynamo, table: required(env, 'EVENTS_TABLE'), registry },
    clients.s3,
  );
  const codec = new CommitCodec(registry);
  const deadLetters = new DynamoDeadLetterQueue(
    clients.dynamo,
    required(env, 'DEAD_LETTERS_TABLE'),
  );
  const positionsTable = required(env, 'POSITIONS_TABLE');
  const flushMb = Number(env.FLUSH_MB ?? DEFAULT_FLUSH_MB);
  if (!(flushMb > 0))
    throw new Error(`environment variable FLUSH_MB must be a number of MB above 0`);

  const generationWork = (target: GenerationTarget) => {
    const projection = READ_MODELS.find((p) => p.name === target.projection);
    if (!projection)
      throw new Error(
        `unknown read model "${target.projection}"; there are ${READ_MODELS.map((p) => p.name).join(', ')}`,
      );
    if (!Number.isSafeInteger(target.generation) || target.generation < 2)
      throw new Error(
        `generation must be a whole number from 2 (got ${String(target.generation)})`,
      );
    if (!target.table) throw new Error('no table for the generation');
    const consumer = generationConsumer(projection.name, target.generation);
    return {
      projection,
      documents: new DynamoDocumentStore(clients.dynamo, target.table),
      positions: new DynamoPositionStore(clients.dynamo, consumer, positionsTable),
      consumer,
      events,
      codec,
      budgetBytes: flushMb * 2 ** 20,
      onUnreadable: (
        event: Parameters<DynamoDeadLetterQueue['send']>[0]['event'] & { error: string },
      ) =>
        deadLetters.send({
          consumer: `rebuild:${projection.name}`,
          event,
          error: event.error,
          attempts: 1,
          failed_at: new Date().toISOString(),
        }),
    };
  };

  return {
    /**
     * Applies a data file for up to the call's budget, from where the earlier calls stopped
     * (`progress`); the output's progress adds up every call's, and names the streams the
     * file deferred.
     */
    async file(input: RebuildFileInput): Promise<RebuildFileOutput> {
      if (!input.bucket || !input.file?.dataFileS3Key)
        throw new Error('the input needs "bucket" and "file" (a line of manifest-files.json)');
      const before = input.progress;
      if (before?.done) return { ...input, progress: before, done: true };
      if (
        before &&
        !(
          Number.isSafeInteger(before.next_item) &&
          before.next_item >= 0 &&
          Array.isArray(before.deferred)
        )
      )
        throw new Error(
          `the input's "progress" for ${input.file.dataFileS3Key} has no item to go on from, or no deferred streams`,
        );
      const part = await applyExportFile({
        ...generationWork(input),
        storage: new S3Storage(clients.s3, input.bucket),
        file: input.file,
        ...(before ? { resume: { from: before.next_item, deferred: before.deferred } } : {}),
        until: now() + (clients.fileBudgetMs ?? FILE_BUDGET_MS),
        now,
        ...(clients.filePageItems ? { pageItems: clients.filePageItems } : {}),
      });
      const progress: ExportFilePart = before
        ? {
            ...part,
            events: before.events + part.events,
            duplicates: before.duplicates + part.duplicates,
            unreadable: before.unreadable + part.unreadable,
            flushes: before.flushes + part.flushes,
            peakFoldedBytes: Math.max(before.peakFoldedBytes, part.peakFoldedBytes),
            seconds: Number((before.seconds + part.seconds).toFixed(3)),
          }
        : part;
      return { ...input, progress, done: progress.done };
    },
    /** Applies the streams the files of an export deferred, from the events table. */
    async deferred(input: DeferredStreamsInput) {
      return applyDeferredStreams(generationWork(input), input.streams ?? []);
    },
    /**
     * Applies the streams of expired seasons (none without `ARCHIVE_BUCKET`) through the
     * store, archive and table as one: an export taken after their expiry does not hold them;
     * the positions skip what the files of an earlier export applied.
     */
    async expired(target: GenerationTarget) {
      if (!(events instanceof ArchivedEventStore)) return { events: 0, duplicates: 0, streams: 0 };
      const ids = [...(await events.seasons.all()).keys()].sort();
      return { ...(await applyDeferredStreams(generationWork(target), ids)), streams: ids.length };
    },
  };
}
