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
import { compareTables, sameDocument } from '../compareTables.js';
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
import { type RebuildFileInput, rebuildFileHandlers } from './rebuildFiles.js';

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

export interface RebuildControlInput {
  readonly action: RebuildAction;
  /** The run so far: at the first step, the request the execution was started with. */
  readonly run: RebuildRequest & Partial<RebuildRun>;
  /** The execution's name (`$$.Execution.Name`), kept in the run from the first step on. */
  readonly execution?: string;
}

/** Where the runs keep their lists of files and the maps' results, in the archive bucket. */
export const REBUILDS_PREFIX = 'rebuilds';
/** A generation is caught up once its consumer's lag is under this. */
export const CAUGHT_UP_LAG_MS = 60_000;
/** With no batch for this long after its mapping began, a generation has nothing to catch up. */
export const QUIET_MS = 5 * 60_000;
/** Catch-up checks (a minute apart) before the run gives up, to be run again. */
export const MAX_CATCH_UP_ROUNDS = 120;
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
     * that ends within a day, else a full one.
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
      const kind = awsExportNeeded(end, now()) ?? null;
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
      const folder = `${REBUILDS_PREFIX}/${run.projection}-g${generation.generation}/${run.execution}`;
      const keys: string[] = [];
      for (const [i, archived] of chain.entries()) {
        const items: RebuildFileInput[] = archived.files.map((file) => ({
          bucket,
          projection: run.projection,
          generation: generation.generation,
          table: generation.table,
          file,
        }));
        const key = `${folder}/files-${String(i).padStart(3, '0')}-${archived.id}.json`;
        await clients.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: JSON.stringify(items),
            ContentType: 'application/json',
          }),
        );
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
     * the bucket) added to the totals, and the streams its files deferred applied from the
     * events table by this one writer; then on to the next export's files. After the last
     * export's, the streams of expired seasons (`files.expired`).
     */
    async deferred(run) {
      const generation = need(run.generation, 'generation');
      const list = need(run.files, 'files');
      const results = await mapResults(storage, run.applied);
      const streams = [...new Set(results.flatMap((r) => r.deferred))];
      const applied =
        streams.length > 0
          ? await files.deferred({
              projection: run.projection,
              generation: generation.generation,
              table: generation.table,
              streams,
            })
          : { events: 0, duplicates: 0 };
      const index = list.index + 1;
      const more = index < list.keys.length;
      const target = {
        projection: run.projection,
        generation: generation.generation,
        table: generation.table,
      };
      const expired = more ? { events: 0, duplicates: 0, streams: 0 } : await files.expired(target);
      const t = run.totals ?? emptyTotals();
      const totals: AppliedTotals = {
        items: t.items + sum(results, 'items'),
        events: t.events + sum(results, 'events') + applied.events + expired.events,
        duplicates:
          t.duplicates + sum(results, 'duplicates') + applied.duplicates + expired.duplicates,
        unreadable: t.unreadable + sum(results, 'unreadable'),
        flushes: t.flushes + sum(results, 'flushes'),
        peak_folded_bytes: Math.max(t.peak_folded_bytes, ...results.map((r) => r.peakFoldedBytes)),
        deferred_streams: t.deferred_streams + streams.length,
        expired_streams: t.expired_streams + expired.streams,
        files: t.files + results.length,
      };
      const { applied: _, ...rest } = run;
      return {
        ...rest,
        totals,
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
     * or when the same version built both; documents that differ are read again a few times,
     * since either generation may still be applying the latest events.
     */
    async verify(run) {
      const generation = need(run.generation, 'generation');
      const previous = need(run.previous, 'previous');
      const sameVersion = run.projection_version === previous.projection_version;
      if (!(run.verify ?? sameVersion))
        return { ...run, verification: { differences: null, samples: [], fault: false } };
      const live = new DynamoDocumentStore(clients.dynamo, previous.table);
      const rebuilt = new DynamoDocumentStore(clients.dynamo, generation.table);
      const compared = await compareTables(live, rebuilt);
      // What differs for lag is read again; past the differences named, they are counted only.
      let count = compared.count;
      let named = compared.differences;
      for (let i = 0; i < RECHECKS && named.length > 0; i++) {
        await sleep(RECHECK_MS);
        const still = await recheck(live, rebuilt, named);
        count -= named.length - still.length;
        named = still;
      }
      return {
        ...run,
        verification: {
          differences: count,
          samples: named.slice(0, 20),
          fault: sameVersion && count > 0,
        },
      };
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

  return async (input: RebuildControlInput): Promise<RebuildRun> => {
    const step = steps[input.action];
    if (!step)
      throw new Error(
        `unknown rebuild action "${String(input.action)}"; there are ${Object.keys(steps).join(', ')}`,
      );
    const execution = input.run?.execution ?? input.execution;
    if (!input.run?.projection || !execution)
      throw new Error('the input needs "run" with "projection", and "execution"');
    return step({ ...input.run, execution });
  };
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
export async function mapResults(
  storage: S3Storage,
  applied: RebuildRun['applied'],
): Promise<ExportFileResult[]> {
  const key = applied?.ResultWriterDetails?.Key;
  if (!key) throw new Error('the map wrote no results (no ResultWriterDetails.Key)');
  const manifest = JSON.parse((await storage.read(key)).toString('utf8')) as {
    ResultFiles?: { SUCCEEDED?: { Key: string }[] };
  };
  const out: ExportFileResult[] = [];
  for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
    const executions = JSON.parse((await storage.read(file.Key)).toString('utf8')) as unknown[];
    for (const execution of executions) {
      // NONE (the default when exporting): the child execution with its output as JSON text;
      // COMPACT: the output itself.
      const output =
        execution !== null && typeof execution === 'object' && 'Output' in execution
          ? JSON.parse(String(execution.Output))
          : execution;
      if (output === null || typeof output !== 'object' || !('deferred' in output))
        throw new Error(`${file.Key}: an iteration's output is not a data file's result`);
      out.push(output as ExportFileResult);
    }
  }
  return out;
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
