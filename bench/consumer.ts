/**
 * Consumer throughput (decode + upcast + apply, in process, through the same handler a
 * Lambda function runs) next to raw avsc decoding of the same payloads, and end-to-end
 * latency in the embedded runtime (append → consumer, append → bus handler) under a steady
 * load.
 */

import { pathToFileURL } from 'node:url';
import type { EventData } from '../schemas/events.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { busRouter } from '../stream/buses/busRouter.js';
import { commitChange } from '../stream/changes/commitChange.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { createKinesisHandler } from '../stream/consumer/createKinesisHandler.js';
import type { KinesisStreamRecord } from '../stream/consumer/kinesisEvent.js';
import { InMemoryPositionStore } from '../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { CommitCodec } from '../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../stream/eventStore/InMemoryEventStore.js';
import { EmbeddedRuntime } from '../stream/local/EmbeddedRuntime.js';
import { median } from './rpi.js';

export const CONSUMER_SCENARIOS = [
  'consumer-throughput',
  'consumer-throughput-upcast',
  'e2e-latency',
] as const;

function data(i: number): EventData<'MatchRecorded'> {
  return {
    match_id: `m${i}`,
    season: '2026',
    played_on: '2026-09-01',
    home_team: `Team ${i % 330}`,
    away_team: `Team ${(i + 7) % 330}`,
    home_goals: i % 4,
    away_goals: i % 3,
    neutral: false,
    decided_by: 'regulation',
    venue: null,
  };
}

/** `count` one-event commits as Kinesis records; `v1` writes them with MatchRecorded v1 (upcast on read). */
async function records(registry: SchemaRegistry, count: number, v1: boolean) {
  const store = new InMemoryEventStore(registry);
  const out: KinesisStreamRecord[] = [];
  const payloads: Buffer[] = [];
  const codec = new CommitCodec(registry);
  for (let i = 0; i < count; i++) {
    const id = `match:m${i}`;
    let commit = codec.build(id, 0, [{ event_type: 'MatchRecorded', data: data(i) }]);
    if (v1) {
      const old = registry.encode(
        'MatchRecorded',
        { match_id: `m${i}`, home_team: 'A', away_team: 'B', score: '2-1' },
        1,
      );
      const [event] = commit.events;
      if (!event) throw new Error('no event');
      commit = {
        ...commit,
        events: [{ ...event, version: 1, fingerprint: old.fingerprint, data: old.bytes }],
      };
    }
    payloads.push(Buffer.from(commit.events[0]?.data ?? []));
    const { record, partitionKey } = commitChange(commit, 'events', 'us-east-1');
    out.push({
      eventID: `shardId-000000000000:${i}`,
      kinesis: {
        partitionKey,
        sequenceNumber: String(i),
        data: Buffer.from(JSON.stringify(record)).toString('base64'),
        approximateArrivalTimestamp: Date.now() / 1000,
      },
    });
  }
  return { store, records: out, payloads };
}

/** How much work a run does (the defaults are the measured figures; tests use tiny ones). */
export interface ConsumerSize {
  /** Events decoded and applied per run. @default 20,000 */
  readonly events?: number;
  /** Seconds of steady load for the latency figures. @default 8 */
  readonly seconds?: number;
}

async function throughput(upcast: boolean, count: number) {
  const registry = SchemaRegistry.fromDirectory();
  const { store, records: input, payloads } = await records(registry, count, upcast);
  // The payloads are written at v1 (to be upcast) or at the latest version.
  const writerVersion = upcast ? 1 : registry.latest('MatchRecorded').version;
  const writer = registry.get('MatchRecorded', writerVersion).type;

  // Baseline: avsc decoding the same Avro payloads, nothing else.
  const rawRound = () => {
    const start = performance.now();
    for (const p of payloads) writer.fromBuffer(p);
    return count / ((performance.now() - start) / 1000);
  };

  // Second baseline: the least a consumer must do with the same Kinesis records (base64,
  // JSON, base64, avsc), with no checks, no upcast and no sequencing.
  const recordRound = () => {
    const start = performance.now();
    for (const r of input) {
      const change = JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8'));
      writer.fromBuffer(Buffer.from(change.dynamodb.NewImage.events.L[0].M.data.B, 'base64'));
    }
    return count / ((performance.now() - start) / 1000);
  };

  const handlerRound = async () => {
    let applied = 0;
    const handler = createKinesisHandler({
      consumer: 'bench',
      codec: new CommitCodec(registry),
      sequencer: new AggregateSequencer({
        consumer: 'bench',
        store,
        positions: new InMemoryPositionStore(),
        apply: async (events) => {
          applied += events.length;
        },
      }),
    });
    const start = performance.now();
    for (let i = 0; i < input.length; i += 100) await handler({ Records: input.slice(i, i + 100) });
    if (applied !== count) throw new Error(`applied ${applied} of ${count}`);
    return applied / ((performance.now() - start) / 1000);
  };

  // The three in turn, round after round, so that a drift of the machine's speed moves them
  // alike (the host's speed can move by a third within the hour); one round of each first,
  // not counted, to warm them up.
  rawRound();
  recordRound();
  await handlerRound();
  const rawRuns: number[] = [];
  const recordRuns: number[] = [];
  const runs: number[] = [];
  for (let round = 0; round < 7; round++) {
    rawRuns.push(rawRound());
    recordRuns.push(recordRound());
    runs.push(await handlerRound());
  }
  const value = median(runs);
  const baseline = median(rawRuns);
  return {
    scenario: upcast ? 'consumer-throughput-upcast' : 'consumer-throughput',
    events: count,
    value: Math.round(value),
    unit: 'events/s',
    baseline: Math.round(median(recordRuns)),
    baseline_unit:
      'raw decodes/s of the same Kinesis records with avsc (base64, JSON, base64, avsc; no checks, no upcast, no sequencing)',
    ratio: Number((value / median(recordRuns)).toFixed(3)),
    payload_baseline: Math.round(baseline),
    payload_baseline_unit: `avsc decodes/s of the bare MatchRecorded v${writerVersion} payloads, out of their records`,
    payload_ratio: Number((value / baseline).toFixed(3)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(
    (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(1),
  );
}

async function latency(seconds: number) {
  const runtime = await EmbeddedRuntime.start({
    memory: true,
    consumerDefaults: { pollIntervalMs: 10 },
  });
  const appendedAt = new Map<string, number>();
  const toConsumer: number[] = [];
  const toHandler: number[] = [];
  runtime.buses.soccer.register({
    name: 'bench',
    pattern: { 'detail-type': ['MatchRecorded'] },
    handler: async (event) => {
      const id = (event.detail as EventEnvelope).aggregate_id;
      const at = appendedAt.get(id);
      if (at !== undefined) toHandler.push(performance.now() - at);
    },
  });
  await runtime.addConsumer('router', busRouter(runtime.publisher), { pollIntervalMs: 10 });
  await runtime.addConsumer(
    'model',
    async (events) => {
      for (const e of events) {
        const at = appendedAt.get(e.aggregate_id);
        if (at !== undefined) toConsumer.push(performance.now() - at);
      }
    },
    { pollIntervalMs: 10 },
  );
  const rate = 50;
  for (let i = 0; i < rate * seconds; i++) {
    const id = `match:l${i}`;
    appendedAt.set(id, performance.now());
    await runtime.store.append(id, 0, [{ event_type: 'MatchRecorded', data: data(i) }]);
    await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
  }
  await runtime.settle();
  await runtime.stop();
  const figure = (name: string, values: number[]) => ({
    scenario: name,
    events: values.length,
    rate_per_second: rate,
    p50_ms: percentile(values, 50),
    p95_ms: percentile(values, 95),
    p99_ms: percentile(values, 99),
    value: percentile(values, 50),
    unit: 'ms (p50)',
  });
  return [
    figure('e2e-latency-append-to-consumer', toConsumer),
    figure('e2e-latency-append-to-bus-handler', toHandler),
  ];
}

export async function measure(name: string, size: ConsumerSize = {}) {
  const events = size.events ?? 20_000;
  if (name === 'consumer-throughput') return [await throughput(false, events)];
  if (name === 'consumer-throughput-upcast') return [await throughput(true, events)];
  if (name === 'e2e-latency') return latency(size.seconds ?? 8);
  throw new Error(`unknown scenario ${name}`);
}

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  if (!(CONSUMER_SCENARIOS as readonly string[]).includes(name)) {
    process.stderr.write(`unknown scenario ${name}; known: ${CONSUMER_SCENARIOS.join(', ')}\n`);
    process.exit(2);
  }
  const option = (flag: string) => {
    const i = process.argv.indexOf(flag);
    if (i < 0) return undefined;
    const value = Number(process.argv[i + 1]);
    if (!Number.isInteger(value) || value < 1) {
      process.stderr.write(
        `${flag} needs a whole number of at least 1, got ${process.argv[i + 1]}\n`,
      );
      process.exit(2);
    }
    return value;
  };
  const events = option('--events');
  const seconds = option('--seconds');
  const figures = await measure(name, {
    ...(events ? { events } : {}),
    ...(seconds ? { seconds } : {}),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
