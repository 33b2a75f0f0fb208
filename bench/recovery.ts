/**
 * The local change relay's scan after an unclean stop, on a large store: the events table
 * loaded as for the rebuild benchmark (100,000 or 1,000,000 commits without the marker), a
 * checkpoint left open with its watermark before the last `tail` commits (what a relay that
 * died holding as many as it may would leave), then a relay started on it. Measured: the
 * time until it is open (the scan of the whole table, filtered on `committed_at` and the
 * marker, and its checkpoint written: what `matchstream start` waits for during its boot),
 * the commits it found, and the time to forward them; next to dynalite's raw parallel scan
 * of the same table, before and after.
 *
 * `node dist/bench/recovery.js relay-recovery-100k` (or `relay-recovery-1m`).
 */
import { pathToFileURL } from 'node:url';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startPipeline } from '../pipeline/embeddedPipeline.js';
import { ensureStream } from '../stream/aws/kinesisClient.js';
import { EVENTS_TABLE, ensureTable } from '../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../stream/local/ChangeRelay.js';
import { load, rawScan } from './rebuild.js';

export interface RecoveryScenario {
  readonly name: string;
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** Commits stamped at or after the watermark left open: what the relay finds again. */
  readonly tail: number;
  readonly segments: number;
}

export const RECOVERY_SCENARIOS: readonly RecoveryScenario[] = [
  // The rebuild benchmark's stores: 102,000 and 1,010,000 commits. The tail is the most a
  // relay holds before the store writes with the marker again (MAX_HANDED).
  { name: 'relay-recovery-100k', teams: 2000, gamesPerTeam: 100, tail: 10_000, segments: 4 },
  { name: 'relay-recovery-1m', teams: 10_000, gamesPerTeam: 200, tail: 10_000, segments: 4 },
];

/** Where the measured relay keeps its checkpoint and puts its records (not the pipeline's). */
const CHECKPOINT_TABLE = 'bench-relay-recovery';
const STREAM = 'bench-relay-recovery';

export async function measure(scenario: RecoveryScenario) {
  const pipeline = await startPipeline({ memory: true, debounceMs: 3_600_000 });
  try {
    const { dynamo, kinesis } = pipeline.runtime;
    // The stamps of the last `tail` commits built, oldest first.
    const recent: string[] = [];
    const loadStarted = performance.now();
    const commits = await load(pipeline, scenario, (commit) => {
      recent.push(commit.committed_at);
      if (recent.length > scenario.tail) recent.shift();
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const watermark = recent[0];
    if (watermark === undefined) throw new Error('the store is empty');
    await Promise.all([
      ensureTable(dynamo, {
        TableName: CHECKPOINT_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'relay', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'relay', KeyType: 'HASH' }],
      }),
      ensureStream(kinesis, STREAM, 1),
    ]);
    // What a relay killed while it held commits leaves.
    await dynamo.send(
      new PutItemCommand({
        TableName: CHECKPOINT_TABLE,
        Item: {
          relay: { S: EVENTS_TABLE },
          watermark: { S: watermark },
          open: { BOOL: true },
          written_at: { S: watermark },
        },
      }),
    );

    const scanBefore = await rawScan(pipeline, scenario.segments);
    const warnings: string[] = [];
    const relay = new ChangeRelay({
      dynamo,
      table: EVENTS_TABLE,
      kinesis,
      streamName: STREAM,
      checkpointTable: CHECKPOINT_TABLE,
      recoverySegments: scenario.segments,
      onError: (error) => warnings.push(error.message),
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    relay.start();
    await relay.opened();
    const openSeconds = (performance.now() - started) / 1000;
    const heapOpen = process.memoryUsage().heapUsed;
    await relay.drain();
    const forwardSeconds = (performance.now() - started) / 1000 - openSeconds;
    await relay.stop();
    const scanAfter = await rawScan(pipeline, scenario.segments);

    const found = relay.stats.recovered;
    if (found < scenario.tail)
      throw new Error(
        `the relay found ${found} commits, fewer than the ${scenario.tail} after the watermark`,
      );
    if (relay.stats.forwarded < found)
      throw new Error(
        `the relay forwarded ${relay.stats.forwarded} of the ${found} commits it found`,
      );
    const warning = warnings.find((w) => w.startsWith('relay: the last run'));
    if (!warning) throw new Error(`the relay did not say what it found: ${warnings.join('; ')}`);
    const baseline = (scanBefore.per_second + scanAfter.per_second) / 2;
    const perSecond = commits / openSeconds;
    return {
      scenario: scenario.name,
      commits,
      segments: scenario.segments,
      load: {
        commits_per_second: Math.round(commits / loadSeconds),
        seconds: Number(loadSeconds.toFixed(1)),
      },
      found,
      open_seconds: Number(openSeconds.toFixed(2)),
      value: Math.round(perSecond),
      unit: 'commits of the table a second, until the relay is open (its scan and checkpoint)',
      baseline: Math.round(baseline),
      baseline_unit: `items/s, raw parallel Scan of the events table (${scenario.segments} segments, dynalite in memory), mean of before and after`,
      ratio: Number((perSecond / baseline).toFixed(3)),
      forward_seconds: Number(forwardSeconds.toFixed(2)),
      forwarded_per_second: Math.round(found / Math.max(forwardSeconds, 0.001)),
      heap_growth_open_mb: Math.round((heapOpen - heapBefore) / 2 ** 20),
      warning,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await pipeline.stop();
  }
}

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  const scenario = RECOVERY_SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${RECOVERY_SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(scenario))}\n`);
}
