import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeExportCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  GetAliasCommand,
  GetEventSourceMappingCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { keyString } from '../../projections/Projection.js';
import { generationConsumer } from '../../projections/ReadModelRegistry.js';
import { S3Storage } from '../../stream/archive/ArchiveStorage.js';
import {
  archivedExportOf,
  exportStatus,
  requestExportOnAws,
} from '../../stream/archive/awsExport.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { listExports } from '../../stream/archive/readExport.js';
import { awsExportNeeded } from '../archiveChainUpToDate.js';
import { type ExportFileResult, exportChain } from '../archiveReplay.js';
import {
  compareSegment,
  KEPT_DIFFERENCES,
  type SegmentComparison,
  sameDocument,
  segmentComparison,
} from '../compareTables.js';
import {
  type DocumentDifference,
  MOST_WARM_UNITS,
  type RebuildSummary,
} from '../rebuildSummary.js';
import { type ConsumerEnv, jsonRecord, required } from './consumers.js';
import {
  ensureGenerationTable,
  generationAlias,
  generationTableOnAws,
  generationWarmth,
  readModelNamed,
  registryOnAws,
  type WarmThroughput,
  warmThroughputOf,
} from './generations.js';
import {
  type RebuildFileInput,
  type RebuildFileOutput,
  readStreamIds,
  rebuildFileHandlers,
} from './rebuildFiles.js';

/** What `matchstream rebuild --aws` starts the state machine with. */
export interface RebuildRequest {
  readonly projection: string;
  /** Compare with the active generation (default: when the same version built both). */
  readonly verify?: boolean | null;
  /** Switch the active generation once built (and not a fault). @default true */
  readonly switch?: boolean;
  /**
   * Warm throughput to make the new generation's table with, at the least (units a second);
   * it is also at least the active generation's (`generationWarmth`).
   */
  readonly warm?: Partial<WarmThroughput>;
}

/** The totals of the files applied so far (what the summary reports of the replay). */
export interface AppliedTotals {
  readonly items: number;
  readonly events: number;
  readonly duplicates: number;
  readonly unreadable: number;
  readonly flushes: number;
  readonly peak_folded_bytes: number;
  readonly deferred_streams: number;
  /** Streams of expired seasons applied after the last export's files. */
  readonly expired_streams: number;
  readonly files: number;
}

/**
 * A rebuild run on AWS: the state the state machine passes from step to step, each step a call
 * of `rebuildControl` that returns it with its part filled in. The Distributed Map's result
 * (`applied`) is the one part the state machine adds itself.
 */
export interface RebuildRun extends RebuildRequest {
  /** The execution's name (the state machine adds it from its context). */
  readonly execution: string;
  readonly started_at?: string;
  readonly projection_version?: number;
  readonly generation?: { readonly generation: number; readonly table: string };
  readonly previous?: {
    readonly generation: number;
    readonly table: string;
    readonly projection_version: number;
  };
  readonly resumed?: boolean;
  /** The new generation's table's warm throughput, as `prepare` made or found it. */
  readonly warm_throughput?: WarmThroughput;
  /** The export the run waits for (none when the archive's chain was fresh enough). */
  readonly export?: {
    readonly arn: string | null;
    readonly kind: 'full' | 'incremental' | null;
    readonly done: boolean;
  };
  /** The chain's files, one list per export (each the items of one Distributed Map run). */
  readonly files?: {
    readonly bucket: string;
    readonly keys: readonly string[];
    /** The export whose files the next map applies. */
    readonly index: number;
    /** The list of that export (`keys[index]`), which the map reads. */
    readonly key: string;
    /** Whether an export is left to apply (`index < keys.length`). */
    readonly more: boolean;
    readonly exports: readonly string[];
    readonly up_to: string;
    readonly items: number;
    readonly replay_started_at: string;
  };
  /** The Distributed Map's output: where its ResultWriter put the results. */
  readonly applied?: {
    readonly ResultWriterDetails?: { readonly Bucket?: string; readonly Key?: string };
  };
  /**
   * The streams the last map's files deferred (after the last export's, with the streams of
   * expired seasons), which the control step applies in parts: their list in the bucket, and
   * where the next call goes on.
   */
  readonly deferring?: {
    readonly key: string;
    readonly streams: number;
    readonly next: number;
    readonly events: number;
    readonly duplicates: number;
    /** Whether every stream of the list is applied (the state machine's choice). */
    readonly done: boolean;
  };
  readonly totals?: AppliedTotals;
  readonly replay_seconds?: number;
  readonly feed?: {
    readonly mapping: string;
    readonly alias: string;
    readonly from: string;
    readonly started_at: string;
    readonly rounds: number;
    readonly caught_up: boolean;
  };
  /**
   * The comparison with the active generation, pass by pass: each pass a list of segments'
   * work (`SegmentComparison`) in the bucket, which a Distributed Map runs while `pending`.
   */
  readonly comparison?: {
    /** `both`: every live segment looked up and every rebuilt one counted; then `extras`. */
    readonly pass: 'both' | 'extras' | null;
    /** The list the next map reads. */
    readonly key: string | null;
    /** Whether a map is to run that list (the state machine's choice). */
    readonly pending: boolean;
    /** Differences found by the passes so far. */
    readonly count: number;
    /** Live documents found in the rebuilt generation, and the rebuilt generation's count. */
    readonly found: number;
    readonly held: number;
    /** Where the differences the first pass named wait for the second. */
    readonly named_key: string | null;
  };
  /** The comparison map's output: where its ResultWriter put the results. */
  readonly compared?: {
    readonly ResultWriterDetails?: { readonly Bucket?: string; readonly Key?: string };
  };
  readonly verification?: {
    readonly differences: number | null;
    readonly samples: readonly DocumentDifference[];
    readonly fault: boolean;
  };
  readonly summary?: RebuildSummary;
}

export type RebuildAction =
  | 'prepare'
  | 'exportStatus'
  | 'listFiles'
  | 'deferred'
  | 'feed'
  | 'catchUp'
  | 'verify'
  | 'finish';

export interface RebuildStepInput {
  readonly action: RebuildAction;
  /** The run so far: at the first step, the request the execution was started with. */
  readonly run: RebuildRequest & Partial<RebuildRun>;
  /** The execution's name (`$$.Execution.Name`), kept in the run from the first step on. */
  readonly execution?: string;
}

/** An iteration of the comparison's map: one segment's pass, from where it stopped. */
export interface CompareSegmentInput {
  readonly action: 'compareSegment';
  readonly segment: SegmentComparison;
}

export type RebuildControlInput = RebuildStepInput | CompareSegmentInput;

/** Where the runs keep their lists of files and the maps' results, in the archive bucket. */
export const REBUILDS_PREFIX = 'rebuilds';
/** A generation is caught up once its consumer's lag is under this. */
export const CAUGHT_UP_LAG_MS = 60_000;
/** With no batch for this long after its mapping began, a generation has nothing to catch up. */
export const QUIET_MS = 5 * 60_000;
/** Catch-up checks (a minute apart) before the run gives up, to be run again. */
export const MAX_CATCH_UP_ROUNDS = 120;
/**
 * Segments of each table the comparison scans, each a map iteration of its own (the
 * comparison's map runs up to the stack's `concurrency` at once).
 */
export const COMPARE_SEGMENTS = 16;
/**
 * How long a call of `compareSegment` goes on before it returns where it got to, for the
 * state machine to call it again: the function's timeout is 15 minutes, and a page (1 MB
 * scanned, its documents looked up) takes seconds.
 */
export const COMPARE_BUDGET_MS = 10 * 60_000;
/**
 * How long a call of the `deferred` step applies streams before it returns where it got to
 * (the function's timeout is 15 minutes; a chunk of 100 streams takes well under a second).
 */
export const DEFERRED_BUDGET_MS = 10 * 60_000;
/** Objects of the bucket the control step reads at once (the files' lists of deferred streams). */
const LIST_READS = 16;
/** Times the verification reads again the documents that differ: a difference may be lag. */
const RECHECKS = 3;
const RECHECK_MS = 15_000;

/** The settings of a generation's event source mapping, as the stack sets the consumers'. */
export interface FeedSettings {
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
}

export interface RebuildControlClients {
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
  readonly cloudWatch: CloudWatchClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** Waits between re-reads of differing documents. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long a call of `compareSegment` goes on. @default COMPARE_BUDGET_MS */
  readonly compareBudgetMs?: number;
  /** Items a page of the comparison's scans reads at most. @default DynamoDB's 1 MB a page */
  readonly comparePageItems?: number;
  /** How long a call of the `deferred` step applies streams. @default DEFERRED_BUDGET_MS */
  readonly deferredBudgetMs?: number;
  /** Streams the `deferred` step delivers at once. @default 100 */
  readonly deferredChunk?: number;
}

/**
 * The steps of a rebuild on AWS, each a call the state machine makes with the run so far and
 * the action, from the function's environment: `EVENTS_TABLE`, `POSITIONS_TABLE`,
 * `DEAD_LETTERS_TABLE`, `REGISTRY_TABLE`, `READ_MODEL_TABLES`, `RM_TABLE_PREFIX` (where the
 * generations' tables are made), `KMS_KEY_ARN` (their key, and the exports'), `ARCHIVE_BUCKET`,
 * `FEEDER_FUNCTION` (the generation feeder's name), `STREAM_ARN`, `STREAM_RETENTION_HOURS`,
 * `FAILURE_BUCKET_ARN` (the mappings' on-failure destination) and `FEED_SETTINGS` (JSON).
 */
export function rebuildControl(env: ConsumerEnv, clients: RebuildControlClients) {
  const now = clients.now ?? Date.now;
  const sleep = clients.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const bucket = required(env, 'ARCHIVE_BUCKET');
  const eventsTable = required(env, 'EVENTS_TABLE');
  const storage = new S3Storage(clients.s3, bucket);
  const files = rebuildFileHandlers(env, clients);
  const registry = registryOnAws(env, clients.dynamo);
  const kmsKeyArn = required(env, 'KMS_KEY_ARN');
  const exportWhere = { table: eventsTable, bucket, prefix: ARCHIVE_PREFIX };

  const steps: Record<RebuildAction, (run: RebuildRun) => Promise<RebuildRun>> = {
    /**
     * The generation to build (a new one, or the one an earlier run left building), its table,
     * and the export to wait for, as every reader of the archive decides it
     * (`awsExportNeeded`): none while the chain is fresh, an incremental one after a chain
     * that ends within a day and holds fewer than `MAX_CHAIN_EXPORTS`, else a full one.
     */
    async prepare(run) {
      const projection = readModelNamed(run.projection);
      const requested = requestedWarmth(run.warm);
      const previous = await registry.active(projection);
      const before = await registry.entry(projection);
      const resumed = before.generations.some((g) => g.status === 'building');
      const generation = await registry.building(projection, (n) =>
        generationTableOnAws(required(env, 'RM_TABLE_PREFIX'), projection, n),
      );
      const warm = generationWarmth(
        await warmThroughputOf(clients.dynamo, previous.table),
        requested,
      );
      const warmThroughput = await ensureGenerationTable(clients.dynamo, {
        table: generation.table,
        kmsKeyArn,
        ...(env.STAGE ? { stage: env.STAGE } : {}),
        ...(warm ? { warm } : {}),
      });
      const chain = exportChain((await listExports(storage, ARCHIVE_PREFIX)).exports);
      const end = chain.at(-1)?.upTo;
      const kind = awsExportNeeded(end, now(), chain.length) ?? null;
      const started = kind
        ? await requestExportOnAws({
            dynamo: clients.dynamo,
            table: eventsTable,
            bucket,
            prefix: ARCHIVE_PREFIX,
            kmsKeyId: kmsKeyArn,
            clock: now,
            ...(kind === 'incremental' && end ? { incremental: { from: end } } : {}),
          })
        : undefined;
      return {
        ...run,
        started_at: run.started_at ?? new Date(now()).toISOString(),
        projection_version: projection.version,
        generation: { generation: generation.generation, table: generation.table },
        previous: {
          generation: previous.generation,
          table: previous.table,
          projection_version: previous.projection_version,
        },
        resumed,
        warm_throughput: warmThroughput,
        export: {
          arn: started?.ExportArn ?? null,
          kind,
          done: started === undefined || started.ExportStatus === 'COMPLETED',
        },
      };
    },

    /** Whether the export is done: DescribeExport, and once it is, its manifests in the bucket. */
    async exportStatus(run) {
      const arn = run.export?.arn;
      if (!arn || run.export?.done) return run;
      const { ExportDescription } = await clients.dynamo.send(
        new DescribeExportCommand({ ExportArn: arn }),
      );
      const description = ExportDescription ?? {};
      const done = exportStatus(description, exportWhere) === 'COMPLETED';
      if (done)
        await archivedExportOf(
          { s3: clients.s3, bucket, prefix: ARCHIVE_PREFIX },
          description,
          eventsTable,
        );
      return { ...run, export: { ...run.export, arn, kind: run.export?.kind ?? null, done } };
    },

    /**
     * The chain's data files, one list per export, written to the bucket for the maps to read
     * (a list in the state would pass its 256 KB limit with a few thousand files).
     */
    async listFiles(run) {
      const generation = need(run.generation, 'generation');
      const chain = exportChain((await listExports(storage, ARCHIVE_PREFIX)).exports);
      const last = chain.at(-1);
      if (!last)
        throw new Error(
          `the archive s3://${bucket}/${ARCHIVE_PREFIX} holds no full export to rebuild from`,
        );
      const folder = runFolder(run, generation.generation);
      const keys: string[] = [];
      for (const [i, archived] of chain.entries()) {
        const items: RebuildFileInput[] = archived.files.map((file) => ({
          bucket,
          projection: run.projection,
          generation: generation.generation,
          table: generation.table,
          folder,
          file,
        }));
        const key = `${folder}/files-${String(i).padStart(3, '0')}-${archived.id}.json`;
        await putJson(clients.s3, bucket, key, items);
        keys.push(key);
      }
      return {
        ...run,
        files: {
          bucket,
          keys,
          index: 0,
          key: keys[0] as string,
          more: true,
          exports: chain.map((e) => e.id),
          up_to: last.upTo,
          items: chain.reduce((sum, e) => sum + e.summary.itemCount, 0),
          replay_started_at: new Date(now()).toISOString(),
        },
        totals: run.totals ?? emptyTotals(),
      };
    },

    /**
     * After a map over one export's files: its results (from the ResultWriter's manifest in
     * the bucket) added to the totals, and the streams its files deferred (after the last
     * export's, with the streams of expired seasons) applied from the events table by this one
     * writer, in parts: the first call writes their list to the bucket, and each call applies
     * from where the last stopped for up to `DEFERRED_BUDGET_MS` (`deferring`, which the state
     * machine loops on until done); then on to the next export's files.
     */
    async deferred(run) {
      const generation = need(run.generation, 'generation');
      const list = need(run.files, 'files');
      const target = {
        projection: run.projection,
        generation: generation.generation,
        table: generation.table,
      };
      let current = run;
      let deferring = run.deferring;
      let ids: readonly string[] | undefined;
      if (!deferring || deferring.done) {
        const results = await mapResults(storage, run.applied);
        const deferred = [...new Set(results.flatMap((r) => r.deferred))];
        const more = list.index + 1 < list.keys.length;
        const expired = more ? [] : await files.expiredStreams();
        ids = [...new Set([...deferred, ...expired])];
        const key = `${runFolder(run, generation.generation)}/deferred-${String(list.index).padStart(3, '0')}.json`;
        if (ids.length > 0) await putJson(clients.s3, bucket, key, ids);
        const t = run.totals ?? emptyTotals();
        const { applied: _, ...rest } = run;
        current = {
          ...rest,
          totals: {
            items: t.items + sum(results, 'items'),
            events: t.events + sum(results, 'events'),
            duplicates: t.duplicates + sum(results, 'duplicates'),
            unreadable: t.unreadable + sum(results, 'unreadable'),
            flushes: t.flushes + sum(results, 'flushes'),
            peak_folded_bytes: results.reduce(
              (peak, r) => Math.max(peak, r.peakFoldedBytes),
              t.peak_folded_bytes,
            ),
            deferred_streams: t.deferred_streams + deferred.length,
            expired_streams: t.expired_streams + expired.length,
            files: t.files + results.length,
          },
        };
        deferring = { key, streams: ids.length, next: 0, events: 0, duplicates: 0, done: false };
      }
      if (deferring.next < deferring.streams) {
        const part = await files.deferred({
          ...target,
          streams: ids ?? (await readStreamIds(storage, deferring.key)),
          from: deferring.next,
          until: now() + (clients.deferredBudgetMs ?? DEFERRED_BUDGET_MS),
          ...(clients.deferredChunk ? { chunk: clients.deferredChunk } : {}),
        });
        deferring = {
          ...deferring,
          next: part.next,
          events: deferring.events + part.events,
          duplicates: deferring.duplicates + part.duplicates,
        };
      }
      if (deferring.next < deferring.streams) return { ...current, deferring };
      const t = need(current.totals, 'totals');
      const index = list.index + 1;
      const more = index < list.keys.length;
      return {
        ...current,
        deferring: { ...deferring, done: true },
        totals: {
          ...t,
          events: t.events + deferring.events,
          duplicates: t.duplicates + deferring.duplicates,
        },
        files: { ...list, index, more, key: (more ? list.keys[index] : list.key) as string },
        ...(more ? {} : { replay_seconds: (now() - Date.parse(list.replay_started_at)) / 1000 }),
      };
    },

    /**
     * Feeds the generation from the stream, from the instant the chain ends: the feeder's
     * alias for it, and an event source mapping on that alias starting AT_TIMESTAMP. Its
     * consumer's positions are the files', so it skips what they applied; it is the
     * generation's only writer from now on. Refused when the stream no longer holds that
     * instant (a rebuild that took longer than the stream's retention): run it again.
     */
    async feed(run) {
      const generation = need(run.generation, 'generation');
      const from = need(run.files, 'files').up_to;
      const retentionMs = Number(env.STREAM_RETENTION_HOURS ?? 24) * 3_600_000;
      if (now() - Date.parse(from) > retentionMs - 10 * 60_000)
        throw new Error(
          `the exports end at ${from}, which the change stream (retention ${retentionMs / 3_600_000} h) holds no longer: start the rebuild again for a fresh export`,
        );
      const functionName = required(env, 'FEEDER_FUNCTION');
      const alias = generationAlias(run.projection, generation.generation);
      const aliasArn = await ensureAlias(clients.lambda, functionName, alias);
      const streamArn = required(env, 'STREAM_ARN');
      const { EventSourceMappings } = await clients.lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: aliasArn, EventSourceArn: streamArn }),
      );
      // Listed by the alias's ARN: that alias's mappings only.
      let mapping = EventSourceMappings?.[0]?.UUID;
      if (!mapping) {
        const settings = jsonRecord(env, 'FEED_SETTINGS') as unknown as Record<
          keyof FeedSettings,
          string
        >;
        const created = await clients.lambda.send(
          new CreateEventSourceMappingCommand({
            FunctionName: aliasArn,
            EventSourceArn: streamArn,
            StartingPosition: 'AT_TIMESTAMP',
            StartingPositionTimestamp: new Date(from),
            BatchSize: Number(settings.batchSize),
            MaximumBatchingWindowInSeconds: Number(settings.batchingWindowSeconds),
            ParallelizationFactor: Number(settings.parallelizationFactor),
            BisectBatchOnFunctionError: true,
            FunctionResponseTypes: ['ReportBatchItemFailures'],
            MaximumRetryAttempts: Number(settings.retryAttempts),
            MaximumRecordAgeInSeconds: Number(settings.maxRecordAgeSeconds),
            DestinationConfig: {
              OnFailure: { Destination: required(env, 'FAILURE_BUCKET_ARN') },
            },
          }),
        );
        mapping = need(created.UUID, 'the new mapping UUID');
      }
      return {
        ...run,
        feed: {
          mapping,
          alias,
          from,
          started_at: run.feed?.started_at ?? new Date(now()).toISOString(),
          rounds: 0,
          caught_up: false,
        },
      };
    },

    /**
     * Whether the generation has caught up: its mapping enabled, and its consumer's lag
     * (`IteratorLagMs`, which the feeder reports) under `CAUGHT_UP_LAG_MS` in its latest
     * minute, or no batch at all for `QUIET_MS` since the mapping began.
     */
    async catchUp(run) {
      const feed = need(run.feed, 'feed');
      const generation = need(run.generation, 'generation');
      const rounds = feed.rounds + 1;
      const { State } = await clients.lambda.send(
        new GetEventSourceMappingCommand({ UUID: feed.mapping }),
      );
      let caughtUp = false;
      if (State === 'Enabled') {
        const end = now();
        const lag = await latestLag(
          clients.cloudWatch,
          generationConsumer(run.projection, generation.generation),
          end,
        );
        caughtUp =
          lag === undefined
            ? end - Date.parse(feed.started_at) >= QUIET_MS
            : lag <= CAUGHT_UP_LAG_MS;
      }
      if (!caughtUp && rounds >= MAX_CATCH_UP_ROUNDS)
        throw new Error(
          `generation ${generation.generation} of ${run.projection} has not caught up with the stream after ${rounds} checks (mapping ${feed.mapping}: ${State ?? 'unknown'}); it goes on being fed: run the rebuild again to verify and switch`,
        );
      return { ...run, feed: { ...feed, rounds, caught_up: caughtUp } };
    },

    /**
     * The new generation compared with the active one (as `--verify` does locally), when asked
     * or when the same version built both, in passes the state machine runs as Distributed
     * Maps while `comparison.pending`: this step writes each pass's list of segments' work
     * (`SegmentComparison`), and after the map reads its results. The first pass looks every
     * live document up in the rebuilt generation (`missing`, `changed`) and counts the rebuilt
     * one; only when it holds more than the live documents found in it does a second pass look
     * its documents up in the live one (`extra`). No call holds more than a page of either
     * table, and each map iteration stops and goes on before the function's time runs out, so
     * the comparison's size has no limit but the state machine's two days. Documents that
     * differ are read again a few times at the end, since either generation may still be
     * applying the latest events.
     */
    async verify(run) {
      const generation = need(run.generation, 'generation');
      const previous = need(run.previous, 'previous');
      const sameVersion = run.projection_version === previous.projection_version;
      if (!(run.verify ?? sameVersion))
        return {
          ...run,
          comparison: idleComparison(),
          verification: { differences: null, samples: [], fault: false },
        };
      const tables = { live: previous.table, rebuilt: generation.table };
      const folder = runFolder(run, generation.generation);
      const keep = Math.ceil(KEPT_DIFFERENCES / COMPARE_SEGMENTS);
      const work = (pass: SegmentComparison['pass']) =>
        Array.from({ length: COMPARE_SEGMENTS }, (_, i) =>
          segmentComparison(pass, tables, i, COMPARE_SEGMENTS, keep),
        );
      const comparison = run.comparison;
      if (!comparison || comparison.pass === null) {
        const key = `${folder}/compare-both.json`;
        await putJson(clients.s3, bucket, key, [...work('live'), ...work('count')]);
        return {
          ...run,
          comparison: { ...idleComparison(), pass: 'both', key, pending: true },
        };
      }
      const results = await comparedSegments(storage, run.compared);
      const { compared: _, ...rest } = run;
      const named = (parts: readonly SegmentComparison[]) =>
        parts.flatMap((p) => p.differences).slice(0, KEPT_DIFFERENCES);
      if (comparison.pass === 'both') {
        const live = results.filter((r) => r.pass === 'live');
        const count = live.reduce((n, r) => n + r.count, 0);
        const found = live.reduce((n, r) => n + r.found, 0);
        const held = results.filter((r) => r.pass === 'count').reduce((n, r) => n + r.scanned, 0);
        if (held === found) return settle(rest, count, named(live));
        // More rebuilt documents than live ones found in it: name the extras.
        const namedKey = `${folder}/compare-named.json`;
        await putJson(clients.s3, bucket, namedKey, named(live));
        const key = `${folder}/compare-extras.json`;
        await putJson(clients.s3, bucket, key, work('extras'));
        return {
          ...rest,
          comparison: {
            pass: 'extras',
            key,
            pending: true,
            count,
            found,
            held,
            named_key: namedKey,
          },
        };
      }
      const before = comparison.named_key
        ? (JSON.parse(
            (await storage.read(comparison.named_key)).toString('utf8'),
          ) as DocumentDifference[])
        : [];
      const count = comparison.count + results.reduce((n, r) => n + r.count, 0);
      return settle(rest, count, [...before, ...named(results)].slice(0, KEPT_DIFFERENCES));
    },

    /** The generation marked built, switched to unless asked not to or a fault; the summary. */
    async finish(run) {
      const projection = readModelNamed(run.projection);
      const generation = need(run.generation, 'generation');
      const previous = need(run.previous, 'previous');
      const verification = need(run.verification, 'verification');
      const totals = run.totals ?? emptyTotals();
      const switched = run.switch !== false && !verification.fault;
      await registry.markBuilt(projection, generation.generation, switched);
      const replaySeconds = Number((run.replay_seconds ?? 0).toFixed(3));
      const seconds = Number(
        ((now() - Date.parse(run.started_at ?? new Date(now()).toISOString())) / 1000).toFixed(3),
      );
      const summary: RebuildSummary = {
        projection: run.projection,
        source: 'archive',
        exports: run.files?.exports ?? [],
        deferred_streams: totals.deferred_streams,
        expired_streams: totals.expired_streams,
        generation: generation.generation,
        table: generation.table,
        previous_generation: previous.generation,
        projection_version: projection.version,
        previous_version: previous.projection_version,
        resumed: run.resumed ?? false,
        completed: true,
        switched,
        events: totals.events,
        scanned: totals.items,
        replay_seconds: replaySeconds,
        scanned_per_second: Math.round(totals.items / Math.max(replaySeconds, 0.001)),
        seconds,
        events_per_second: Math.round(totals.events / Math.max(replaySeconds, 0.001)),
        unreadable: totals.unreadable,
        flushes: totals.flushes,
        peak_folded_mb: Number((totals.peak_folded_bytes / 2 ** 20).toFixed(1)),
        // Applied by the generation's own mapping; counted in its metrics (EventsApplied).
        caught_up: 0,
        differences: verification.differences,
        difference_samples: verification.samples,
        fault: verification.fault,
        ...(run.warm_throughput ? { warm_throughput: run.warm_throughput } : {}),
      };
      return { ...run, summary };
    },
  };

  /**
   * The comparison's end: the differences named read again (a difference may be lag), those
   * that go away taken off the count; past the differences named, they are counted only.
   */
  const settle = async (
    run: RebuildRun,
    counted: number,
    differences: readonly DocumentDifference[],
  ): Promise<RebuildRun> => {
    const generation = need(run.generation, 'generation');
    const previous = need(run.previous, 'previous');
    const live = new DynamoDocumentStore(clients.dynamo, previous.table);
    const rebuilt = new DynamoDocumentStore(clients.dynamo, generation.table);
    let count = counted;
    let named = differences;
    for (let i = 0; i < RECHECKS && named.length > 0; i++) {
      await sleep(RECHECK_MS);
      const still = await recheck(live, rebuilt, named);
      count -= named.length - still.length;
      named = still;
    }
    return {
      ...run,
      comparison: { ...need(run.comparison, 'comparison'), pending: false, count },
      verification: {
        differences: count,
        samples: named.slice(0, 20),
        fault: run.projection_version === previous.projection_version && count > 0,
      },
    };
  };

  /** One iteration of the comparison's map: a segment's pass, on until the budget is spent. */
  const compare = (work: SegmentComparison): Promise<SegmentComparison> =>
    compareSegment(
      work,
      {
        live: new DynamoDocumentStore(clients.dynamo, work.live),
        rebuilt: new DynamoDocumentStore(clients.dynamo, work.rebuilt),
      },
      now() + (clients.compareBudgetMs ?? COMPARE_BUDGET_MS),
      {
        now,
        ...(clients.comparePageItems ? { pageItems: clients.comparePageItems } : {}),
      },
    );

  function control(input: CompareSegmentInput): Promise<SegmentComparison>;
  function control(input: RebuildStepInput): Promise<RebuildRun>;
  function control(input: RebuildControlInput): Promise<RebuildRun | SegmentComparison>;
  async function control(input: RebuildControlInput): Promise<RebuildRun | SegmentComparison> {
    if (input.action === 'compareSegment') return compare(checkedSegment(input.segment));
    const step = steps[input.action];
    if (!step)
      throw new Error(
        `unknown rebuild action "${String(input.action)}"; there are ${Object.keys(steps).join(', ')}`,
      );
    const execution = input.run?.execution ?? input.execution;
    if (!input.run?.projection || !execution)
      throw new Error('the input needs "run" with "projection", and "execution"');
    return step({ ...input.run, execution });
  }
  return control;
}

/** A map iteration's input, checked: a segment's comparison as `verify` lists it. */
function checkedSegment(segment: unknown): SegmentComparison {
  const problem = (what: string) =>
    new Error(
      `the input's "segment" ${what}: it must be a segment's comparison as verify lists it`,
    );
  if (segment === null || typeof segment !== 'object' || Array.isArray(segment))
    throw problem('is missing or not an object');
  const s = segment as Partial<SegmentComparison>;
  if (s.pass !== 'live' && s.pass !== 'count' && s.pass !== 'extras')
    throw problem(`has pass ${JSON.stringify(s.pass)}, not live, count or extras`);
  const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!whole(s.segments) || !whole(s.segment) || (s.segment as number) >= (s.segments as number))
    throw problem(`has segment ${JSON.stringify(s.segment)} of ${JSON.stringify(s.segments)}`);
  if (typeof s.live !== 'string' || typeof s.rebuilt !== 'string' || !s.live || !s.rebuilt)
    throw problem('names no live or rebuilt table');
  for (const key of ['keep', 'calls', 'scanned', 'found', 'count'] as const)
    if (!whole(s[key])) throw problem(`has ${key} ${JSON.stringify(s[key])}`);
  if (!Array.isArray(s.differences)) throw problem('has no list of differences');
  return s as SegmentComparison;
}

/** A comparison with nothing to do (the run compares nothing, or has not begun to). */
function idleComparison(): NonNullable<RebuildRun['comparison']> {
  return { pass: null, key: null, pending: false, count: 0, found: 0, held: 0, named_key: null };
}

/** Where a run keeps its lists and the maps' results, in the archive bucket. */
function runFolder(run: RebuildRun, generation: number): string {
  return `${REBUILDS_PREFIX}/${run.projection}-g${generation}/${run.execution}`;
}

async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(value),
      ContentType: 'application/json',
    }),
  );
}

/** A run's `warm`, checked: whole numbers of units a second, from 1. */
function requestedWarmth(warm: unknown): Partial<WarmThroughput> | undefined {
  if (warm === undefined || warm === null) return undefined;
  if (typeof warm !== 'object' || Array.isArray(warm))
    throw new Error('"warm" must be an object with "reads" and/or "writes" (units a second)');
  const out: { reads?: number; writes?: number } = {};
  for (const [key, value] of Object.entries(warm)) {
    if (key !== 'reads' && key !== 'writes')
      throw new Error(`"warm" has "${key}"; it takes "reads" and "writes" (units a second)`);
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      value < 1 ||
      value > MOST_WARM_UNITS
    )
      throw new Error(
        `"warm.${key}" must be a whole number of units a second from 1 to ${MOST_WARM_UNITS.toLocaleString('en-US')} (got ${JSON.stringify(value)})`,
      );
    out[key] = value;
  }
  return out;
}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null)
    throw new Error(`the run has no ${what} yet: the state machine skipped a step`);
  return value;
}

function emptyTotals(): AppliedTotals {
  return {
    items: 0,
    events: 0,
    duplicates: 0,
    unreadable: 0,
    flushes: 0,
    peak_folded_bytes: 0,
    deferred_streams: 0,
    expired_streams: 0,
    files: 0,
  };
}

function sum(
  results: readonly ExportFileResult[],
  key: 'items' | 'events' | 'duplicates' | 'unreadable' | 'flushes',
): number {
  return results.reduce((total, r) => total + r[key], 0);
}

/**
 * The outputs of a Distributed Map's iterations, from what its ResultWriter wrote: the
 * manifest (`ResultFiles.SUCCEEDED[].Key`), each results file an array of child executions
 * whose `Output` is the iteration's result as JSON. A map that ran any iteration that did not
 * succeed has failed the execution before this is called.
 */
async function mapOutputs<T>(
  storage: S3Storage,
  written: RebuildRun['applied'],
  what: string,
  is: (output: object) => boolean,
): Promise<T[]> {
  const key = written?.ResultWriterDetails?.Key;
  if (!key) throw new Error('the map wrote no results (no ResultWriterDetails.Key)');
  const manifest = JSON.parse((await storage.read(key)).toString('utf8')) as {
    ResultFiles?: { SUCCEEDED?: { Key: string }[] };
  };
  const out: T[] = [];
  for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
    const executions = JSON.parse((await storage.read(file.Key)).toString('utf8')) as unknown[];
    for (const execution of executions) {
      // NONE (the default when exporting): the child execution with its output as JSON text;
      // COMPACT: the output itself.
      const output: unknown =
        execution !== null && typeof execution === 'object' && 'Output' in execution
          ? JSON.parse(String(execution.Output))
          : execution;
      if (output === null || typeof output !== 'object' || !is(output))
        throw new Error(`${file.Key}: an iteration's output is not ${what}`);
      out.push(output as T);
    }
  }
  return out;
}

/**
 * The results of the map over an export's data files, every file applied to its end, with
 * the streams each deferred (read from where the file's iterations kept them).
 */
export async function mapResults(
  storage: S3Storage,
  applied: RebuildRun['applied'],
): Promise<ExportFileResult[]> {
  const outputs = await mapOutputs<RebuildFileOutput>(
    storage,
    applied,
    "a data file's result",
    (o) => 'progress' in o && o.progress !== null && typeof o.progress === 'object',
  );
  const unfinished = outputs.find((o) => !o.progress.done);
  if (unfinished)
    throw new Error(
      `${unfinished.progress.file} came back applied in part (${unfinished.progress.items} of ${unfinished.file.itemCount} items): the map's iteration ended before the file did`,
    );
  const result = async ({ progress }: RebuildFileOutput): Promise<ExportFileResult> => {
    const { deferred_key: key, done: _, next_item: __, ...rest } = progress;
    const deferred = progress.deferred > 0 && key ? await readStreamIds(storage, key) : [];
    if (deferred.length !== progress.deferred)
      throw new Error(
        `${progress.file} deferred ${progress.deferred} streams, and ${key ? `${storage.description}/${key} lists ${deferred.length}` : 'names no list of them'}`,
      );
    return { ...rest, deferred };
  };
  // The lists read LIST_READS at a time: an incremental export's files may each defer some.
  const results: ExportFileResult[] = [];
  for (let i = 0; i < outputs.length; i += LIST_READS)
    results.push(...(await Promise.all(outputs.slice(i, i + LIST_READS).map(result))));
  return results;
}

/** The segments' work as the comparison's map left it, every segment's pass done. */
async function comparedSegments(
  storage: S3Storage,
  compared: RebuildRun['compared'],
): Promise<SegmentComparison[]> {
  const parts = await mapOutputs<SegmentComparison>(
    storage,
    compared,
    "a segment's comparison",
    (o) => 'pass' in o && 'segment' in o,
  );
  const unfinished = parts.find((p) => !p.done);
  if (unfinished)
    throw new Error(
      `segment ${unfinished.segment} of the ${unfinished.pass} pass came back unfinished: the map's iteration ended before its scan did`,
    );
  return parts;
}

async function ensureAlias(
  lambda: LambdaClient,
  functionName: string,
  alias: string,
): Promise<string> {
  try {
    const found = await lambda.send(
      new GetAliasCommand({ FunctionName: functionName, Name: alias }),
    );
    return need(found.AliasArn, 'alias ARN');
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const created = await lambda.send(
    new CreateAliasCommand({
      FunctionName: functionName,
      Name: alias,
      FunctionVersion: '$LATEST',
      Description: 'feeds one read-model generation a rebuild made (matchstream)',
    }),
  );
  return need(created.AliasArn, 'alias ARN');
}

/** The consumer's latest minute of `IteratorLagMs` (maximum) in the last five, if any. */
async function latestLag(
  cloudWatch: CloudWatchClient,
  consumer: string,
  end: number,
): Promise<number | undefined> {
  const { MetricDataResults } = await cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(end - QUIET_MS),
      EndTime: new Date(end),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          Id: 'lag',
          MetricStat: {
            Metric: {
              Namespace: 'matchstream',
              MetricName: 'IteratorLagMs',
              Dimensions: [
                { Name: 'service', Value: 'matchstream' },
                { Name: 'consumer', Value: consumer },
              ],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        },
      ],
    }),
  );
  return MetricDataResults?.[0]?.Values?.[0];
}

/** The differences that are still there when read again. */
async function recheck(
  live: DynamoDocumentStore,
  rebuilt: DynamoDocumentStore,
  differences: readonly DocumentDifference[],
): Promise<DocumentDifference[]> {
  const keys = differences.map((d) => ({ pk: d.pk, sk: d.sk }));
  const [a, b] = await Promise.all([live.getMany(keys), rebuilt.getMany(keys)]);
  const out: DocumentDifference[] = [];
  for (const key of keys) {
    const k = keyString(key);
    const left = a.get(k);
    const right = b.get(k);
    if (left === undefined && right === undefined) continue;
    if (left === undefined) out.push({ ...key, kind: 'extra' });
    else if (right === undefined) out.push({ ...key, kind: 'missing' });
    else if (!sameDocument(left, right)) out.push({ ...key, kind: 'changed' });
  }
  return out;
}
