import { createHash } from 'node:crypto';
import {
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { type DependencyUnavailable, heldBy } from '../breaker/DependencyUnavailable.js';
import { compilePattern, type EventPattern } from '../buses/eventPattern.js';
import type { CheckpointStore } from '../consumer/CheckpointStore.js';
import type { DeadLetterQueue } from '../consumer/DeadLetterQueue.js';
import type { FailureLog } from '../consumer/FailureLog.js';
import { invocationRecord, invocationRecordKey } from '../consumer/invocationRecord.js';
import {
  type KinesisStreamBatchResponse,
  type KinesisStreamEvent,
  type KinesisStreamRecord,
  lambdaRecords,
} from '../consumer/kinesisEvent.js';
import type { Log } from '../Log.js';
import { uuidFromName } from '../uuid.js';
import type { InvocationRecordSink } from './failureFolder.js';

/** A Lambda-style function for Kinesis batches (see `createKinesisHandler`). */
export type KinesisHandler = (
  event: KinesisStreamEvent,
) => Promise<KinesisStreamBatchResponse | undefined>;

export interface EventSourceMappingOptions {
  /** The consumer's name: its checkpoints and dead letters are kept under it. */
  readonly consumer: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly region?: string;
  readonly handler: KinesisHandler;
  readonly checkpoints: CheckpointStore;
  readonly deadLetters: DeadLetterQueue;
  /**
   * The on-failure destination as Lambda's S3 one: each record given up on is also written
   * there as the invocation record Lambda would write, whole (what `inspect --failures` reads).
   */
  readonly onFailure?: InvocationRecordSink;
  /** Where the handler notes why it failed a record (for the dead letters). */
  readonly failures?: FailureLog;
  /**
   * Where a shard without a checkpoint starts: the first record that arrived at or after this
   * instant (Lambda's `StartingPosition: AT_TIMESTAMP`). @default the oldest record (TRIM_HORIZON)
   */
  readonly startingPositionTimestamp?: Date;
  /**
   * With `startingPositionTimestamp`: a record known to be in a shard (its sequence number,
   * say where another consumer of the stream stands), so that the start is found without
   * reading every record before it. If that record arrived before the timestamp, reading
   * starts after it; if at or after, at the timestamp, which kinesalite can then look up (it
   * never answers where nothing arrived after the time). Without one, or when it cannot be
   * read, the shard is read from its oldest record and what arrived before is passed over.
   */
  readonly startingPositionWitness?: (shardId: string) => Promise<string | undefined>;
  /**
   * Lambda's filter criteria: the patterns (at most 10, any one of which lets a record
   * through) over `{ data }`, the record's data parsed as JSON, with the syntax of EventBridge
   * patterns. A record none lets through is not handed to the function and counts as
   * processed: the checkpoint moves past it. A record whose data is not JSON matches no
   * pattern on `data`, and Kinesis mappings filter on `data` only
   * (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html). @default none
   */
  readonly filters?: readonly EventPattern[];
  /** Told of the records the filters held back, each as its data parsed (undefined if not JSON). */
  readonly onFiltered?: (data: readonly unknown[]) => void;
  /** Records per invocation, 1 to 10,000. @default 100 */
  readonly batchSize?: number;
  /** How long to gather records before invoking, 0 to 300,000 ms. @default 0 */
  readonly batchingWindowMs?: number;
  /** Concurrent invocations per shard, 1 to 10 (order kept per partition key). @default 1 */
  readonly parallelizationFactor?: number;
  /** Split a batch in two when the function throws, to isolate the bad record. @default true */
  readonly bisectOnError?: boolean;
  /** Retries of a failing record before it is dead-lettered; -1 for no limit. @default 3 */
  readonly maximumRetryAttempts?: number;
  /** Records older than this are dead-lettered unprocessed; -1 for no limit. @default -1 */
  readonly maximumRecordAgeSeconds?: number;
  /** Wait between polls of an empty shard. @default 200 */
  readonly pollIntervalMs?: number;
  /** Longest wait between polls of a shard that stays empty (the wait doubles up to it). @default 1000 */
  readonly maxPollIntervalMs?: number;
  /** Wait before retrying a failed record, times its attempts. @default 100 */
  readonly retryDelayMs?: number;
  /** How often to look for new shards (splits and merges). @default 5000 */
  readonly shardRefreshMs?: number;
  /** Errors the mapping recovers from by itself (failed polls), for logging. */
  readonly onError?: (error: Error) => void;
  /** Where it says what it did: each dead letter (error), each batch (debug). */
  readonly log?: Log;
}

export interface MappingStats {
  /** Records handed to the function (retries included). */
  invoked: number;
  /** Records checkpointed as processed. */
  processed: number;
  batches: number;
  retries: number;
  deadLettered: number;
  /** Records passed over as older than `startingPositionTimestamp`. */
  skipped: number;
  /** Records the filters held back (checkpointed, never handed to the function). */
  filtered: number;
  /**
   * Batches held back because a breaker around a dependency of the handler was open: kept in
   * the stream and invoked again at the breaker's trial time, no attempt counted.
   */
  held: number;
}

interface ShardState {
  readonly shardId: string;
  /** When the last poll that found the shard empty (and nothing buffered) started. */
  quietSince: number;
  finished: boolean;
  millisBehind: number;
}

/**
 * Runs a Kinesis consumer as a long-lived poller with the semantics of Lambda's event source
 * mapping for Kinesis, calling the same handler a Lambda function would get: batch size,
 * batching window, parallelization factor, bisect on error, report-batch-item-failures
 * (checkpoint before the lowest failed record, retry from it), maximum retries and record
 * age with an on-failure destination that keeps the whole record, a per-shard checkpoint
 * that survives restarts, and shard splits and merges (a child shard starts only when its
 * parents are finished). A poison record never blocks its shard: once out of retries it is
 * dead-lettered and the shard moves on.
 */
export class EventSourceMapping {
  readonly stats: MappingStats = {
    invoked: 0,
    processed: 0,
    batches: 0,
    retries: 0,
    deadLettered: 0,
    skipped: 0,
    filtered: 0,
    held: 0,
  };
  private readonly shards = new Map<string, ShardState>();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly attempts = new Map<string, number>();
  private stopping = false;
  private started = false;
  private discovery: Promise<void> | undefined;
  private streamArn = '';
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly factor: number;
  private readonly bisect: boolean;
  private readonly maxRetries: number;
  private readonly maxAgeMs: number;
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  private readonly sleepers = new Set<() => void>();
  /** Counts `wake()` calls: a shard whose poll was under way when one came polls again. */
  private wakeups = 0;
  private endDiscoveryNap: (() => void) | undefined;
  private looking: Promise<void> = Promise.resolve();
  private readonly retryDelayMs: number;
  private readonly refreshMs: number;
  /** Whether a record passes the filters; undefined without filters. */
  private readonly passes: ((data: unknown) => boolean) | undefined;

  constructor(private readonly options: EventSourceMappingOptions) {
    this.batchSize = clamp(options.batchSize ?? 100, 1, 10_000);
    this.windowMs = clamp(options.batchingWindowMs ?? 0, 0, 300_000);
    this.factor = clamp(options.parallelizationFactor ?? 1, 1, 10);
    this.bisect = options.bisectOnError ?? true;
    this.maxRetries = options.maximumRetryAttempts ?? 3;
    const age = options.maximumRecordAgeSeconds ?? -1;
    this.maxAgeMs = age < 0 ? Number.POSITIVE_INFINITY : age * 1000;
    this.pollMs = options.pollIntervalMs ?? 200;
    this.maxPollMs = Math.max(this.pollMs, options.maxPollIntervalMs ?? 1000);
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.refreshMs = options.shardRefreshMs ?? 5000;
    this.passes = filtersOf(options.filters);
  }

  /** Starts polling every eligible shard. */
  async start(): Promise<void> {
    this.started = true;
    const { StreamDescriptionSummary } = await this.options.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: this.options.streamName }),
    );
    this.streamArn = StreamDescriptionSummary?.StreamARN ?? '';
    this.stopping = false;
    await this.refreshShards();
    this.discovery = this.discover();
  }

  /** Stops after the batches in flight, leaving checkpoints where they are. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    this.wake();
    this.endDiscoveryNap?.();
    await this.discovery;
    await Promise.all(this.workers.values());
  }

  /**
   * Whether it polls: Lambda's `Enabled` flag of a mapping. While disabled the stream keeps
   * the records and the checkpoints stay where they are; enabled again, it carries on from
   * them, as an event source mapping disabled for a bulk load does.
   */
  get enabled(): boolean {
    return this.started;
  }

  /** Stops polling after the batches in flight (see `enabled`). */
  async disable(): Promise<void> {
    if (this.started) await this.stop();
  }

  /** Polls again from the checkpoints (see `enabled`). */
  async enable(): Promise<void> {
    if (!this.started) await this.start();
  }

  /**
   * True when, for every shard, a poll that started at or after `since` found nothing new
   * and nothing was left to process: everything in the stream before `since` is handled.
   */
  idleSince(since: number): boolean {
    return (
      this.shards.size > 0 &&
      [...this.shards.values()].every((s) => s.finished || s.quietSince >= since)
    );
  }

  /** Says new records were put on the stream: every idle shard polls again now. */
  wake(): void {
    this.wakeups++;
    const waiting = [...this.sleepers];
    this.sleepers.clear();
    for (const resolve of waiting) resolve();
  }

  /** Sleeps up to `ms`, or until `wake()`. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /**
   * Resolves once everything in the stream when called is handled (see `idleSince`). However
   * long that takes, it waits while work goes on; it fails only when `progress` (by default,
   * the records this mapping handled) stood still for `stallMs`: a handler hung, a stream that
   * cannot be read. One invocation may take long (a batch of 10,000 records): a `progress`
   * that counts what the handler does inside it keeps the wait from failing meanwhile. Once
   * `ended` says so (the pipeline around it stopped), it fails at once: nothing will move.
   */
  async waitUntilIdle(
    stallMs = 30_000,
    progress = () => this.progress(),
    ended: () => boolean = () => false,
  ): Promise<void> {
    const since = Date.now();
    // Shards split or merged since the last look count too (their state starts as not idle).
    if (this.started && !this.stopping)
      await this.refreshShards().catch((error) => this.report(error));
    this.wake(); // napping shards look now, instead of at the end of their nap
    let seen = progress();
    let movedAt = since;
    while (!this.idleSince(since)) {
      if (ended()) throw new Error(`consumer ${this.options.consumer} stopped before it was idle`);
      const now = Date.now();
      const moved = progress();
      if (moved !== seen) {
        seen = moved;
        movedAt = now;
      } else if (now - movedAt > stallMs) {
        throw new Error(
          `consumer ${this.options.consumer} not idle, and nothing moved for ${stallMs} ms`,
        );
      }
      await sleep(10);
    }
  }

  /**
   * A count that grows with every record handed to the handler, checkpointed, dead-lettered
   * or passed over before the starting timestamp.
   */
  progress(): number {
    return (
      this.stats.invoked +
      this.stats.processed +
      this.stats.deadLettered +
      this.stats.skipped +
      this.stats.filtered
    );
  }

  /** How far behind the newest record each shard is (ms), by shard id. */
  lag(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.shards.values()) if (!s.finished) out[s.shardId] = s.millisBehind;
    return out;
  }

  private async discover(): Promise<void> {
    while (!this.stopping) {
      // Its own sleep: `wake()` says records arrived, which is no news of shards.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.refreshMs);
        this.endDiscoveryNap = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.endDiscoveryNap = undefined;
      if (this.stopping) return;
      try {
        await this.refreshShards();
      } catch (error) {
        this.report(error);
      }
    }
  }

  /**
   * Starts a worker for each unfinished shard whose parents are finished. One look at a time:
   * two at once could both start a worker for the same new shard.
   */
  private refreshShards(): Promise<void> {
    const look = this.looking.then(() => this.lookForShards());
    this.looking = look.catch(() => undefined);
    return look;
  }

  private async lookForShards(): Promise<void> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.kinesis.send(
        new ListShardsCommand(
          token ? { NextToken: token } : { StreamName: this.options.streamName },
        ),
      );
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    const listed = new Set(shards.map((s) => s.ShardId));
    for (const shard of shards) {
      const shardId = shard.ShardId as string;
      if (this.workers.has(shardId)) continue;
      const state = this.shards.get(shardId) ?? (await this.stateOf(shardId));
      if (state.finished) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (p): p is string => p !== undefined && listed.has(p),
      );
      // Parents first: a child's records for a key come after its parent's.
      const waiting = await Promise.all(
        parents.map(async (p) => !(this.shards.get(p) ?? (await this.stateOf(p))).finished),
      );
      if (waiting.some(Boolean)) continue;
      const worker = this.runShard(state)
        .catch((error) => this.report(error))
        .finally(() => {
          this.workers.delete(shardId);
          if (state.finished && !this.stopping)
            void this.refreshShards().catch((e) => this.report(e));
        });
      this.workers.set(shardId, worker);
    }
  }

  private async stateOf(shardId: string): Promise<ShardState> {
    const checkpoint = await this.options.checkpoints.get(this.options.consumer, shardId);
    const state: ShardState = {
      shardId,
      quietSince: 0,
      finished: checkpoint?.finished ?? false,
      millisBehind: 0,
    };
    this.shards.set(shardId, state);
    return state;
  }

  /**
   * Where a shard's reading starts: after its checkpoint, else from its oldest record, with
   * `skipBefore` when the records that arrived before `startingPositionTimestamp` are to be
   * passed over. That is AT_TIMESTAMP done here: kinesalite's own never answers on a shard
   * where no record arrived at or after the timestamp (its search for the first has no end).
   */
  private async iterator(shardId: string): Promise<{ iterator: string; skipBefore?: number }> {
    const checkpoint = await this.options.checkpoints.get(this.options.consumer, shardId);
    const from = this.options.startingPositionTimestamp;
    if (!checkpoint?.sequenceNumber && from) {
      const found = await this.iteratorFromWitness(shardId, from).catch(() => undefined);
      if (found) return found;
    }
    const { ShardIterator } = await this.options.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.options.streamName,
        ShardId: shardId,
        ...(checkpoint?.sequenceNumber
          ? {
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
              StartingSequenceNumber: checkpoint.sequenceNumber,
            }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return {
      iterator: ShardIterator as string,
      ...(!checkpoint?.sequenceNumber && from ? { skipBefore: from.getTime() } : {}),
    };
  }

  /**
   * Where a shard without a checkpoint starts, found from a record known to be in it
   * (`startingPositionWitness`); undefined when there is none or it is not in the shard.
   */
  private async iteratorFromWitness(
    shardId: string,
    from: Date,
  ): Promise<{ iterator: string; skipBefore?: number } | undefined> {
    const witness = await this.options.startingPositionWitness?.(shardId);
    if (!witness) return undefined;
    const { kinesis, streamName } = this.options;
    const at = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: witness,
      }),
    );
    const { Records } = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: at.ShardIterator, Limit: 1 }),
    );
    const record = Records?.[0];
    const arrived = record?.ApproximateArrivalTimestamp?.getTime();
    if (record?.SequenceNumber !== witness || arrived === undefined) return undefined;
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ...(arrived < from.getTime()
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: witness }
          : { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: from }),
      }),
    );
    if (!ShardIterator) return undefined;
    // The witness and the records before it arrived before the time: passed over, for good,
    // so that a run after this one (no record having come since) starts after them too
    // instead of at the shard's oldest record.
    if (arrived < from.getTime()) await this.checkpoint(shardId, witness);
    // After the witness, the records that arrived before the time are still passed over.
    return arrived < from.getTime()
      ? { iterator: ShardIterator, skipBefore: from.getTime() }
      : { iterator: ShardIterator };
  }

  private async runShard(state: ShardState): Promise<void> {
    const { shardId } = state;
    let {
      iterator,
      skipBefore,
    }: { iterator: string | undefined; skipBefore?: number | undefined } =
      await this.iterator(shardId);
    let buffer: KinesisRecord[] = [];
    let windowStart = 0;
    let idlePolls = 0;
    while (!this.stopping && iterator) {
      let output: GetRecordsCommandOutput;
      const pollStarted = Date.now();
      const wakeupsBefore = this.wakeups;
      try {
        output = await this.options.kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.batchSize }),
        );
      } catch (error) {
        if (error instanceof ExpiredIteratorException) {
          ({ iterator, skipBefore } = await this.iterator(shardId));
          buffer = [];
          continue;
        }
        this.report(error);
        await sleep(this.pollMs);
        continue;
      }
      const fetched = output.Records ?? [];
      let records = fetched;
      if (skipBefore !== undefined) {
        const before = skipBefore;
        const first = records.findIndex(
          (r) => (r.ApproximateArrivalTimestamp?.getTime() ?? before) >= before,
        );
        this.stats.skipped += first < 0 ? records.length : first;
        if (first >= 0) {
          records = records.slice(first);
          skipBefore = undefined;
        } else {
          records = [];
          // Passed over for good (nothing is buffered before them): the checkpoint moves past.
          const last = fetched.at(-1)?.SequenceNumber;
          if (last) await this.checkpoint(shardId, last);
        }
      }
      if (records.length > 0) {
        if (buffer.length === 0) windowStart = Date.now();
        buffer.push(...records);
      }
      state.millisBehind = output.MillisBehindLatest ?? 0;
      const closed = !output.NextShardIterator;
      const windowOver = Date.now() - windowStart >= this.windowMs;
      while (
        buffer.length >= this.batchSize ||
        (buffer.length > 0 && (windowOver || closed || this.stopping))
      ) {
        await this.processBatch(shardId, buffer.splice(0, this.batchSize));
        windowStart = Date.now();
      }
      if (closed) {
        const last = records.at(-1)?.SequenceNumber;
        const checkpoint = await this.options.checkpoints.get(this.options.consumer, shardId);
        await this.options.checkpoints.set(this.options.consumer, shardId, {
          ...((last ?? checkpoint?.sequenceNumber)
            ? { sequenceNumber: (last ?? checkpoint?.sequenceNumber) as string }
            : {}),
          finished: true,
        });
        state.finished = true;
        return;
      }
      iterator = output.NextShardIterator;
      // Records passed over were still read: only a poll that found none is an idle one.
      if (fetched.length === 0) {
        if (buffer.length === 0) state.quietSince = pollStarted;
        if (buffer.length > 0) {
          await sleep(Math.max(1, this.windowMs - (Date.now() - windowStart)));
        } else if (this.wakeups !== wakeupsBefore) {
          // Records arrived while this poll was under way: it may have read before them.
          idlePolls = 0;
        } else {
          // An empty shard is polled less and less often, up to the maximum, until
          // `wake()` says records arrived (the embedded runtime's relay does).
          idlePolls++;
          await this.nap(Math.min(this.pollMs * 2 ** Math.min(idlePolls - 1, 10), this.maxPollMs));
        }
      } else {
        idlePolls = 0;
      }
    }
  }

  /**
   * One batch, to the end: retries, bisection and dead letters until every record is settled.
   * Records the filters hold back are never handed over; when the batch ends with such
   * records, the checkpoint moves past them once the rest is settled.
   */
  private async processBatch(shardId: string, batch: KinesisRecord[]): Promise<void> {
    const kept = this.passes ? this.filter(batch) : batch;
    if (kept.length > 0) {
      this.stats.batches++;
      const settled = await this.settle(
        shardId,
        lambdaRecords(kept, shardId, this.streamArn, this.options.region ?? 'us-east-1'),
      );
      if (!settled) return; // stopping with a batch held: read again from the checkpoint
    }
    const last = batch.at(-1);
    if (last?.SequenceNumber && kept.at(-1) !== last)
      await this.checkpoint(shardId, last.SequenceNumber);
    this.options.log?.debug(
      {
        consumer: this.options.consumer,
        shard: shardId,
        records: batch.length,
        ...(kept === batch ? {} : { filtered: batch.length - kept.length }),
      },
      'batch handled',
    );
  }

  /** The records of a batch the filters let through; the others are counted and told of. */
  private filter(batch: KinesisRecord[]): KinesisRecord[] {
    const passes = this.passes;
    if (!passes) return batch;
    const kept: KinesisRecord[] = [];
    const held: unknown[] = [];
    for (const record of batch) {
      const data = parsedData(record);
      if (data !== undefined && passes(data)) kept.push(record);
      else held.push(data);
    }
    if (held.length > 0) {
      this.stats.filtered += held.length;
      this.options.onFiltered?.(held);
    }
    return kept;
  }

  /** Settles the records; false when it stopped with them held (nothing checkpointed past). */
  private async settle(shardId: string, records: KinesisStreamRecord[]): Promise<boolean> {
    let pending = records;
    while (pending.length > 0) {
      const head = pending[0] as KinesisStreamRecord;
      if (Date.now() - head.kinesis.approximateArrivalTimestamp * 1000 > this.maxAgeMs) {
        await this.deadLetter(
          shardId,
          head,
          `record older than ${this.maxAgeMs / 1000} s, not processed`,
          0,
          'RecordAgeExceeded',
        );
        pending = pending.slice(1);
        continue;
      }
      const outcome = await this.invoke(pending);
      const held =
        outcome.failedAt === 0
          ? (outcome.held ??
            this.options.failures?.takeHold(
              (pending[0] as KinesisStreamRecord).kinesis.sequenceNumber,
            ))
          : undefined;
      if (held) {
        // A dependency is out: the batch waits for the breaker's trial, as the stream keeps
        // it on AWS. Not an attempt, and no bisection: every record would fail alike.
        this.stats.held++;
        this.options.log?.debug(
          { consumer: this.options.consumer, shard: shardId, breaker: held.breaker },
          'batch held',
        );
        await this.pause(held.retryAt - Date.now());
        if (this.stopping) return false; // what is held is read again from the checkpoint
        continue;
      }
      if (outcome.failedAt === undefined) {
        await this.checkpoint(
          shardId,
          (pending.at(-1) as KinesisStreamRecord).kinesis.sequenceNumber,
        );
        this.stats.processed += pending.length;
        for (const r of pending) this.attempts.delete(r.kinesis.sequenceNumber);
        return true;
      }
      if (outcome.threw && this.bisect && pending.length > 1) {
        // The function failed without saying where: halve until the bad record is alone.
        const half = Math.ceil(pending.length / 2);
        return (
          (await this.settle(shardId, pending.slice(0, half))) &&
          (await this.settle(shardId, pending.slice(half)))
        );
      }
      if (outcome.failedAt > 0) {
        await this.checkpoint(
          shardId,
          (pending[outcome.failedAt - 1] as KinesisStreamRecord).kinesis.sequenceNumber,
        );
        this.stats.processed += outcome.failedAt;
        pending = pending.slice(outcome.failedAt);
      }
      const failed = pending[0] as KinesisStreamRecord;
      const sequence = failed.kinesis.sequenceNumber;
      const attempts = (this.attempts.get(sequence) ?? 0) + 1;
      this.attempts.set(sequence, attempts);
      const reason =
        outcome.reason ??
        this.options.failures?.take(sequence) ??
        'reported as failed by the handler';
      if (this.maxRetries >= 0 && attempts > this.maxRetries) {
        await this.deadLetter(shardId, failed, reason, attempts);
        pending = pending.slice(1);
        continue;
      }
      this.stats.retries++;
      await sleep(this.retryDelayMs * attempts);
    }
    return true;
  }

  /** Calls the handler (in lanes by partition key); where the batch failed, if it did. */
  private async invoke(records: KinesisStreamRecord[]): Promise<{
    failedAt?: number;
    threw?: boolean;
    reason?: string;
    held?: DependencyUnavailable;
  }> {
    this.stats.invoked += records.length;
    const lanes = this.lanes(records);
    const results = await Promise.all(
      lanes.map(async (lane) => {
        try {
          const response = await this.options.handler({ Records: lane });
          const failed = response?.batchItemFailures[0]?.itemIdentifier;
          return failed === undefined
            ? undefined
            : {
                sequence: failed,
                threw: false,
                reason: undefined,
                held: undefined as DependencyUnavailable | undefined,
              };
        } catch (error) {
          const held = heldBy(error);
          return {
            sequence: lane[0]?.kinesis.sequenceNumber ?? '',
            threw: true,
            reason: error instanceof Error ? error.message : String(error),
            held,
          };
        }
      }),
    );
    let outcome: {
      failedAt?: number;
      threw?: boolean;
      reason?: string;
      held?: DependencyUnavailable;
    } = {};
    for (const result of results) {
      if (!result) continue;
      const index = records.findIndex((r) => r.kinesis.sequenceNumber === result.sequence);
      const at = Math.max(index, 0);
      if (outcome.failedAt === undefined || at < outcome.failedAt) {
        outcome = {
          failedAt: at,
          ...(result.threw ? { threw: true } : {}),
          ...(result.reason ? { reason: result.reason } : {}),
          ...(result.held ? { held: result.held } : {}),
        };
      }
    }
    return outcome;
  }

  /** Waits `ms`, or until the mapping stops. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + Math.max(0, ms);
    while (!this.stopping && Date.now() < until)
      await sleep(Math.min(100, Math.max(1, until - Date.now())));
  }

  /** Records split by partition key into `parallelizationFactor` lanes, order kept in each. */
  private lanes(records: KinesisStreamRecord[]): KinesisStreamRecord[][] {
    if (this.factor === 1) return [records];
    const lanes: KinesisStreamRecord[][] = Array.from({ length: this.factor }, () => []);
    for (const r of records) {
      const lane =
        createHash('md5').update(r.kinesis.partitionKey).digest().readUInt32BE(0) % this.factor;
      lanes[lane]?.push(r);
    }
    return lanes.filter((l) => l.length > 0);
  }

  private async checkpoint(shardId: string, sequenceNumber: string): Promise<void> {
    await this.options.checkpoints.set(this.options.consumer, shardId, {
      sequenceNumber,
      finished: false,
    });
  }

  private async deadLetter(
    shardId: string,
    record: KinesisStreamRecord,
    error: string,
    attempts = 0,
    condition = 'RetryAttemptsExhausted',
  ): Promise<void> {
    const at = new Date();
    await this.options.deadLetters.send({
      consumer: this.options.consumer,
      record,
      error,
      attempts,
      failed_at: at.toISOString(),
    });
    if (this.options.onFailure) {
      const region = this.options.region ?? 'us-east-1';
      await this.options.onFailure.put(
        // The mapping's UUID on AWS; here one derived from the consumer, stable across runs.
        invocationRecordKey(localMappingUuid(this.options.consumer), shardId, at),
        invocationRecord({
          functionArn: `arn:aws:lambda:${region}:000000000000:function:${this.options.consumer}`,
          condition,
          invokeCount: attempts,
          records: [record],
          at,
        }),
      );
    }
    this.stats.deadLettered++;
    this.attempts.delete(record.kinesis.sequenceNumber);
    await this.checkpoint(shardId, record.kinesis.sequenceNumber);
    this.options.log?.error(
      {
        consumer: this.options.consumer,
        shard: shardId,
        sequence_number: record.kinesis.sequenceNumber,
        aggregate_id: record.kinesis.partitionKey,
        attempts,
        error,
      },
      'record dead-lettered',
    );
  }

  private report(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }
}

/** The most filters a mapping takes (Lambda's quota: 5 by default, 10 when raised). */
const MAX_FILTERS = 10;

/** One matcher for the filters (any of them), checked as CreateEventSourceMapping would. */
function filtersOf(
  filters: readonly EventPattern[] | undefined,
): ((data: unknown) => boolean) | undefined {
  if (!filters || filters.length === 0) return undefined;
  if (filters.length > MAX_FILTERS)
    throw new Error(`filters: ${filters.length} patterns, at most ${MAX_FILTERS}`);
  const matchers = filters.map((pattern, i) => {
    const other = Object.keys(pattern).filter((key) => key !== 'data');
    if (other.length > 0)
      throw new Error(
        `filters[${i}]: a Kinesis mapping filters on "data" only, not on ${other.map((k) => `"${k}"`).join(', ')}`,
      );
    try {
      return compilePattern(pattern);
    } catch (error) {
      throw new Error(`filters[${i}]: ${(error as Error).message}`, { cause: error });
    }
  });
  return (data) => {
    const event = { data };
    return matchers.some((matches) => matches(event));
  };
}

/** A record's data parsed as JSON; undefined when it is not JSON. */
function parsedData(record: KinesisRecord): unknown {
  const bytes = record.Data;
  if (!bytes) return undefined;
  try {
    return JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    ) as unknown;
  } catch {
    return undefined;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(Math.round(value), min), max);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The UUID of a consumer's embedded mapping, in the keys of its invocation records: stable
 * across runs, as a mapping's on AWS is.
 */
export function localMappingUuid(consumer: string): string {
  return uuidFromName(`event-source-mapping:${consumer}`);
}
