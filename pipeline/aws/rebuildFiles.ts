import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { generationConsumer } from '../../projections/ReadModelRegistry.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { ArchivedEventStore } from '../../stream/archive/ArchivedEventStore.js';
import { S3Storage } from '../../stream/archive/ArchiveStorage.js';
import type { ManifestFile } from '../../stream/archive/exportFormat.js';
import { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../../stream/consumer/DynamoPositionStore.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import {
  applyDeferredStreams,
  applyExportFile,
  type DeferredStreamsPart,
  type ExportFilePart,
} from '../archiveReplay.js';
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
  /**
   * The run's folder in the bucket (`ListFiles` names it), where a file's deferred streams are
   * kept: an iteration's state carries at most 256 KB, a few thousand stream ids.
   */
  readonly folder?: string;
  /** What the earlier calls on the file did (none at the first): the map's loop passes it. */
  readonly progress?: RebuildFileProgress;
}

/** A file's progress as the map's iteration carries it: its deferred streams in the bucket. */
export interface RebuildFileProgress extends Omit<ExportFilePart, 'deferred'> {
  /** How many streams the file deferred so far. */
  readonly deferred: number;
  /** Where their ids are, a JSON array in the bucket (none while there are none). */
  readonly deferred_key: string | null;
}

/**
 * A call's output: its input with the file's progress so far (the totals of every call on
 * it), and whether the file is done; the map calls again until it is.
 */
export interface RebuildFileOutput extends RebuildFileInput {
  readonly progress: RebuildFileProgress;
  readonly done: boolean;
}

/**
 * How long one call applies a file before it flushes and returns where it got to (the
 * function's timeout is 15 minutes; a flush of the default 64 MB budget takes well under a
 * minute at a new table's 4,000 writes a second).
 */
export const FILE_BUDGET_MS = 10 * 60_000;

/** Streams the files of an export deferred, or of expired seasons: applied by one writer. */
export interface DeferredStreamsInput extends GenerationTarget, Omit<DeferredStreamsPart, 'now'> {
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
          Number.isSafeInteger(before.deferred) &&
          before.deferred >= 0 &&
          (before.deferred === 0 || typeof before.deferred_key === 'string')
        )
      )
        throw new Error(
          `the input's "progress" for ${input.file.dataFileS3Key} has no item to go on from, or no count (and key) of deferred streams`,
        );
      const storage = new S3Storage(clients.s3, input.bucket);
      const deferredBefore =
        before && before.deferred > 0
          ? await readStreamIds(storage, before.deferred_key as string)
          : [];
      const part = await applyExportFile({
        ...generationWork(input),
        storage,
        file: input.file,
        ...(before ? { resume: { from: before.next_item, deferred: deferredBefore } } : {}),
        until: now() + (clients.fileBudgetMs ?? FILE_BUDGET_MS),
        now,
        ...(clients.filePageItems ? { pageItems: clients.filePageItems } : {}),
      });
      // The ids in the bucket, the state carrying their count and key (rewritten only when
      // the call deferred more).
      let key = before?.deferred_key ?? null;
      if (part.deferred.length > deferredBefore.length) {
        if (!input.folder)
          throw new Error(
            `${input.file.dataFileS3Key} deferred streams, and the input names no "folder" to keep them in`,
          );
        key = `${input.folder}/deferred/${input.file.dataFileS3Key}.json`;
        await clients.s3.send(
          new PutObjectCommand({
            Bucket: input.bucket,
            Key: key,
            Body: JSON.stringify(part.deferred),
            ContentType: 'application/json',
          }),
        );
      }
      const progress: RebuildFileProgress = {
        ...part,
        deferred: part.deferred.length,
        deferred_key: key,
        ...(before
          ? {
              events: before.events + part.events,
              duplicates: before.duplicates + part.duplicates,
              unreadable: before.unreadable + part.unreadable,
              flushes: before.flushes + part.flushes,
              peakFoldedBytes: Math.max(before.peakFoldedBytes, part.peakFoldedBytes),
              seconds: Number((before.seconds + part.seconds).toFixed(3)),
            }
          : {}),
      };
      return { ...input, progress, done: progress.done };
    },
    /**
     * Applies streams from the events table (and the archive, for an expired season's): those
     * the files of an export deferred, or of expired seasons. With `until`, the call stops
     * between chunks once that time has come and says where to go on (`next`).
     */
    async deferred(input: DeferredStreamsInput) {
      const { streams, from, until, chunk } = input;
      return applyDeferredStreams(generationWork(input), streams ?? [], {
        ...(from === undefined ? {} : { from }),
        ...(until === undefined ? {} : { until }),
        ...(chunk === undefined ? {} : { chunk }),
        now,
      });
    },
    /**
     * The streams of expired seasons (none without `ARCHIVE_BUCKET`), to apply through the
     * store, archive and table as one: an export taken after their expiry does not hold them;
     * the positions skip what the files of an earlier export applied.
     */
    async expiredStreams(): Promise<string[]> {
      if (!(events instanceof ArchivedEventStore)) return [];
      return [...(await events.seasons.all()).keys()].sort();
    },
  };
}

/** A list of stream ids the rebuild keeps in the bucket (a file's deferred streams). */
export async function readStreamIds(storage: S3Storage, key: string): Promise<string[]> {
  let ids: unknown;
  try {
    ids = JSON.parse((await storage.read(key)).toString('utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
    throw new Error(`${storage.description}/${key} is not a list of stream ids`);
  return ids as string[];
}
