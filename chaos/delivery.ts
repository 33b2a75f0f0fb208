/**
 * Delivery faults: the change stream delivers records more than once, late and out of order
 * (some of what the relay puts is put again, a subset, after a random delay of up to a second),
 * and its shards are split and merged while the season is ingested. The consumers must apply
 * each event once, in order per stream: the same reconciliation as the crash scenario.
 */
import {
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type Shard,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { startPipeline } from '../pipeline/embeddedPipeline.js';
import { CHANGES_STREAM } from '../stream/local/EmbeddedRuntime.js';
import { seasonFeeds } from './crash.js';
import { ingestFeed, reconcile } from './reconcile.js';
import { type Rng, seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface DeliveryOptions {
  readonly seed: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** Probability that a put of the relay is partly put again, later. @default 0.4 */
  readonly redeliver?: number;
  readonly log?: (line: string) => void;
}

interface MiddlewareStack {
  add(middleware: unknown, options: { step: string; name: string; priority?: string }): void;
}

/**
 * Puts some of the relay's records again, late: duplicates, delayed and out of order. A copy
 * that cannot be put is kept in `errors`; `close` puts no more copies and waits for those
 * under way, so none is sent after the pipeline stopped.
 */
function redeliver(client: KinesisClient, rate: number, rng: Rng) {
  const pending = new Set<Promise<unknown>>();
  const copies = new WeakSet<object>();
  const counts = { puts_redelivered: 0, records_redelivered: 0, records_redelivered_later: 0 };
  const errors: string[] = [];
  let closed = false;
  (client.middlewareStack as unknown as MiddlewareStack).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: { StreamName?: string; Records?: PutRecordsRequestEntry[] } }) => {
        const result = await next(args);
        const records = args.input.Records;
        if (
          !closed &&
          context.commandName === 'PutRecordsCommand' &&
          records &&
          !copies.has(args.input) &&
          rng() < rate
        ) {
          const again = records.filter(() => rng() < 0.5);
          if (again.length > 0) {
            counts.puts_redelivered++;
            counts.records_redelivered += again.length;
            counts.records_redelivered_later += again.filter(pastFirstEvent).length;
            const input = { StreamName: args.input.StreamName, Records: again };
            copies.add(input);
            const delay = Math.floor(rng() * 1000);
            const p = new Promise((resolve) => setTimeout(resolve, delay))
              .then(() => client.send(new PutRecordsCommand(input)))
              .catch((error: unknown) => {
                errors.push(error instanceof Error ? error.message : String(error));
              })
              .finally(() => pending.delete(p));
            pending.add(p);
          }
        }
        return result;
      },
    { step: 'initialize', name: 'matchstreamRedelivery', priority: 'low' },
  );
  return {
    counts,
    errors,
    settle: () => Promise.all([...pending]),
    close: async () => {
      closed = true;
      await Promise.all([...pending]);
    },
  };
}

/**
 * Whether a change record is of a commit after its stream's first: a copy of it every
 * consumer that reads it drops as a duplicate. A copy of a stream's first commit may instead
 * be applied again as a repeat, which the read models and the bus handlers absorb (no position
 * is kept for it: README, "Exactly-once effects"), so it need not show as dropped.
 */
function pastFirstEvent(record: PutRecordsRequestEntry): boolean {
  try {
    const change = JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')) as {
      dynamodb?: { NewImage?: { sequence?: { N?: string } } };
    };
    return Number(change.dynamodb?.NewImage?.sequence?.N ?? '1') > 1;
  } catch {
    return false;
  }
}

const openShards = async (client: KinesisClient): Promise<Shard[]> =>
  ((await client.send(new ListShardsCommand({ StreamName: CHANGES_STREAM }))).Shards ?? []).filter(
    (s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined,
  );

async function split(client: KinesisClient): Promise<string> {
  const [shard] = await openShards(client);
  const start = BigInt(shard?.HashKeyRange?.StartingHashKey ?? '0');
  const end = BigInt(shard?.HashKeyRange?.EndingHashKey ?? '0');
  await client.send(
    new SplitShardCommand({
      StreamName: CHANGES_STREAM,
      ShardToSplit: shard?.ShardId,
      NewStartingHashKey: ((start + end) / 2n).toString(),
    }),
  );
  return `split ${shard?.ShardId}`;
}

async function merge(client: KinesisClient): Promise<string> {
  const shards = (await openShards(client)).sort((a, b) =>
    BigInt(a.HashKeyRange?.StartingHashKey ?? '0') < BigInt(b.HashKeyRange?.StartingHashKey ?? '0')
      ? -1
      : 1,
  );
  for (let i = 0; i + 1 < shards.length; i++) {
    const a = shards[i];
    const b = shards[i + 1];
    if (
      BigInt(a?.HashKeyRange?.EndingHashKey ?? '-2') + 1n !==
      BigInt(b?.HashKeyRange?.StartingHashKey ?? '0')
    )
      continue;
    await client.send(
      new MergeShardsCommand({
        StreamName: CHANGES_STREAM,
        ShardToMerge: a?.ShardId,
        AdjacentShardToMerge: b?.ShardId,
      }),
    );
    return `merged ${a?.ShardId} and ${b?.ShardId}`;
  }
  throw new Error('no two adjacent open shards to merge');
}

export async function deliveryScenario(options: DeliveryOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const { chunks, final } = seasonFeeds({ ...options, chunks: 3 }, rng);
  const pipeline = await startPipeline({ memory: true, debounceMs: 300 });
  const kinesis = pipeline.runtime.kinesis;
  const faults = redeliver(kinesis, options.redeliver ?? 0.4, rng);
  try {
    const reshards: string[] = [];
    for (const [i, chunk] of chunks.entries()) {
      await ingestFeed(pipeline, chunk);
      // Mid-run: a split after the first feed, a merge after the second.
      if (i === 0) reshards.push(await split(kinesis));
      if (i === 1) reshards.push(await merge(kinesis));
    }
    await faults.settle();
    const found = await reconcile(pipeline, chunks, final, log);
    // What the consumers saw of it: copies dropped, gaps filled from the store.
    const consumers = Object.fromEntries(
      [...pipeline.runtime.consumers].map(([name, c]) => [
        name,
        { duplicates_dropped: c.counts.duplicates, gaps_filled: c.counts.filled },
      ]),
    );
    const dropped = Object.values(consumers).reduce((n, c) => n + c.duplicates_dropped, 0);
    return {
      scenario: 'delivery-faults',
      seed: options.seed,
      ...found.result,
      // The copies went through the consumers: those of later commits dropped as duplicates.
      passed:
        found.result.passed &&
        faults.errors.length === 0 &&
        faults.counts.records_redelivered > 0 &&
        (faults.counts.records_redelivered_later === 0 || dropped > 0),
      // Each record put again, and each reshard.
      faults_injected: faults.counts.records_redelivered + reshards.length,
      details: {
        ...found.details,
        ...faults.counts,
        redelivery_errors: faults.errors,
        reshards,
        consumers,
      },
    };
  } finally {
    // The reconciliation's own puts may have scheduled copies: put before the stream stops.
    await faults.close();
    await pipeline.stop();
  }
}
