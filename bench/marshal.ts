/**
 * Marshalling by hand against `@aws-sdk/util-dynamodb` (`marshall`/`unmarshall`), on the same
 * items in the same process, rounds alternating: the figures that decide where items are
 * marshalled by hand (see the comments beside that code). Each shape names the path it serves;
 * what one item of that path costs comes from the other scenarios (bench/README.md), except
 * the local relay's, measured here since no other scenario does.
 */
import { deepStrictEqual } from 'node:assert';
import { pathToFileURL } from 'node:url';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { generateSeason } from '../domain/season/generateSeason.js';
import { matchAggregateId, resultData } from '../ingest/matchEvents.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { batchWriteReliably } from '../stream/aws/dynamoBatch.js';
import { dynamoClient } from '../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../stream/aws/kinesisClient.js';
import { commitChange } from '../stream/changes/commitChange.js';
import { type Commit, CommitCodec, type StoredEvent } from '../stream/eventStore/Commit.js';
import { fromItem, toItem } from '../stream/eventStore/commitItem.js';
import { ensureEventsTable, RELAY_MARKER } from '../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../stream/local/ChangeRelay.js';
import { startEmbeddedDynamo } from '../stream/local/embeddedDynamo.js';
import { startEmbeddedKinesis } from '../stream/local/embeddedKinesis.js';
import { median } from './rpi.js';

export const MARSHAL_SCENARIOS = ['marshal'] as const;

type Item = Record<string, AttributeValue>;

/** How much work a run does (the defaults are the measured figures; tests use tiny ones). */
export interface MarshalSize {
  /** Items per round. @default 20,000 */
  readonly items?: number;
  /** Timed rounds of each way (after one warm-up round). @default 9 */
  readonly rounds?: number;
}

/** One kind of item, marshalled both ways: the two must give equal results. */
interface Shape<In> {
  readonly shape: string;
  /** Where the project marshals this shape, and what one item of that path costs. */
  readonly path: string;
  readonly inputs: readonly In[];
  readonly hand: (input: In) => unknown;
  readonly library: (input: In) => unknown;
}

/** A commit as a DynamoDB item written with util-dynamodb: what `toItem` would be with it. */
export function commitToItemWithLibrary(commit: Commit): Item {
  return marshall({
    aggregate_id: commit.aggregate_id,
    sequence: commit.sequence,
    last_sequence: commit.last_sequence,
    committed_at: commit.committed_at,
    events: commit.events.map((e) => ({
      event_id: e.event_id,
      event_type: e.event_type,
      version: e.version,
      fingerprint: Buffer.from(e.fingerprint, 'hex'),
      data: e.data,
      timestamp: e.timestamp,
      correlation_id: e.correlation_id,
      causation_id: e.causation_id,
    })),
  });
}

/**
 * A stored item (SDK attribute values, or the DynamoDB JSON of a change record, whose binary
 * `unmarshall` leaves as base64 text) back as a commit with util-dynamodb, with the checks
 * `fromItem` makes.
 */
export function commitFromItemWithLibrary(item: object, table: string): Commit {
  const native = unmarshall(item as Item);
  const { aggregate_id: aggregateId, sequence, last_sequence, committed_at, events } = native;
  const corrupt = (what: string) =>
    new Error(`item ${aggregateId}/${sequence} of ${table}: ${what}`);
  if (typeof aggregateId !== 'string' || !Number.isSafeInteger(sequence))
    throw corrupt('no aggregate_id or sequence');
  if (!Array.isArray(events) || events.length === 0) throw corrupt('no events');
  const bytes = (v: unknown) =>
    typeof v === 'string' ? Buffer.from(v, 'base64') : v instanceof Uint8Array ? v : undefined;
  const stored = events.map((m: Record<string, unknown>, i): StoredEvent => {
    const fingerprint = bytes(m.fingerprint);
    const data = bytes(m.data);
    const { event_id, event_type, timestamp, version } = m;
    if (
      !fingerprint ||
      !data ||
      typeof event_id !== 'string' ||
      typeof event_type !== 'string' ||
      typeof timestamp !== 'string' ||
      !Number.isSafeInteger(version)
    ) {
      throw corrupt(`event ${i + 1} is missing a field`);
    }
    return {
      event_id,
      event_type,
      version: version as number,
      fingerprint: Buffer.from(fingerprint).toString('hex'),
      data,
      timestamp,
      correlation_id: typeof m.correlation_id === 'string' ? m.correlation_id : '',
      causation_id: typeof m.causation_id === 'string' ? m.causation_id : null,
    };
  });
  const last = last_sequence ?? sequence + stored.length - 1;
  if (last !== sequence + stored.length - 1)
    throw corrupt('last_sequence does not match its events');
  return {
    aggregate_id: aggregateId,
    sequence,
    last_sequence: last,
    committed_at: typeof committed_at === 'string' ? committed_at : '',
    events: stored,
  };
}

/** A season's match results as one-event commits, the commonest item of the store. */
function commits(count: number): Commit[] {
  const registry = SchemaRegistry.fromDirectory();
  const codec = new CommitCodec(registry);
  const teams = Math.max(4, Math.min(330, Math.ceil(count / 10)));
  const season = generateSeason({
    teams,
    gamesPerTeam: Math.ceil((2 * count) / teams) + 1,
    seed: 7,
  });
  return season.games.slice(0, count).map((game) => {
    const id = matchAggregateId(game, 0);
    return codec.build(id, 0, [{ event_type: 'MatchRecorded', data: { ...resultData(game, id) } }]);
  });
}

/** A standings-like document as a read model stores it (JSON text under its key). */
function documents(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    pk: `season#2026`,
    sk: `Team ${i % 330}\u0000match:2026-${String(i).padStart(6, '0')}`,
    doc: JSON.stringify({
      team: `Team ${i % 330}`,
      played_on: '2026-09-01',
      result: 'W',
      goals_for: i % 4,
      goals_against: i % 3,
    }),
  }));
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Both ways over the same inputs, `rounds` each after a warm-up, alternating. */
function compare<In>(s: Shape<In>, rounds: number) {
  // Both ways give the same result, so the figures compare the same work.
  for (const input of s.inputs) deepStrictEqual(s.library(input), s.hand(input));
  rate(s.inputs, s.hand);
  rate(s.inputs, s.library);
  const hand: number[] = [];
  const library: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternating, so drift in the machine's speed reaches both ways alike.
    gc?.();
    hand.push(rate(s.inputs, s.hand));
    gc?.();
    library.push(rate(s.inputs, s.library));
  }
  const value = median(library);
  const baseline = median(hand);
  return {
    shape: s.shape,
    path: s.path,
    items: s.inputs.length,
    value: Math.round(value),
    unit: 'items/s with @aws-sdk/util-dynamodb',
    baseline: Math.round(baseline),
    baseline_unit: 'items/s by hand (the same items, same run)',
    ratio: Number((value / baseline).toFixed(3)),
    library_ns: Math.round(1e9 / value),
    hand_ns: Math.round(1e9 / baseline),
    extra_ns_per_item: Math.round(1e9 / value - 1e9 / baseline),
  };
}

/**
 * Commits per second the local relay forwards from dynalite to kinesalite (the index query,
 * BatchGetItem, change records, PutRecords, BatchWriteItem), median of `rounds` drains of an
 * equal share of `stored`: the cost of the path a commit's item is built on twice.
 */
async function relayRate(stored: readonly Commit[], rounds: number): Promise<number> {
  const dynamo = await startEmbeddedDynamo();
  const kinesalite = await startEmbeddedKinesis();
  const client = dynamoClient({ endpoint: dynamo.endpoint });
  const kinesis = kinesisClient({ endpoint: kinesalite.endpoint });
  try {
    await ensureEventsTable(client, 'events', { relayIndex: true });
    await ensureStream(kinesis, 'changes', 2);
    const per = Math.floor(stored.length / rounds);
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const share = stored.slice(r * per, (r + 1) * per);
      await batchWriteReliably(
        client,
        'events',
        share.map((c) => ({ put: { ...toItem(c), ...RELAY_MARKER } })),
        ['aggregate_id', 'sequence'],
      );
      const relay = new ChangeRelay({
        dynamo: client,
        table: 'events',
        kinesis,
        streamName: 'changes',
      });
      const start = performance.now();
      await relay.drain();
      const seconds = (performance.now() - start) / 1000;
      if (relay.stats.forwarded !== share.length)
        throw new Error(`the relay forwarded ${relay.stats.forwarded} of ${share.length} commits`);
      rates.push(share.length / seconds);
    }
    return median(rates);
  } finally {
    client.destroy();
    kinesis.destroy();
    await dynamo.stop();
    await kinesalite.stop();
  }
}

/** Items per second of `run` over `inputs`. */
function rate<In>(inputs: readonly In[], run: (input: In) => unknown): number {
  let sink = 0;
  const start = performance.now();
  for (const input of inputs) if (run(input) !== undefined) sink++;
  const seconds = (performance.now() - start) / 1000;
  if (sink !== inputs.length) throw new Error('a marshalling gave nothing');
  return inputs.length / seconds;
}

export type MarshalResult = Awaited<ReturnType<typeof measure>>;

export async function measure(name: string, size: MarshalSize = {}) {
  if (name !== 'marshal') throw new Error(`unknown scenario ${name}`);
  const count = size.items ?? 20_000;
  const rounds = size.rounds ?? 9;
  const stored = commits(count);
  const items = stored.map(toItem);
  const images = stored.map((c) => commitChange(c, 'events', 'us-east-1').record.dynamodb.NewImage);
  const docs = documents(count);
  const docItems = docs.map((d) => ({ pk: { S: d.pk }, sk: { S: d.sk }, doc: { S: d.doc } }));
  const figures = [
    compare(
      {
        shape: 'commit-item-write',
        path: 'append (conditional PutItem); the relay (PutRecords, then BatchWriteItem)',
        inputs: stored,
        hand: toItem,
        library: commitToItemWithLibrary,
      },
      rounds,
    ),
    compare(
      {
        shape: 'commit-item-read',
        path: 'every read and scan of the store (rebuild, replay, catch-up)',
        inputs: items,
        hand: (item) => fromItem(item, 'events'),
        library: (item) => commitFromItemWithLibrary(item, 'events'),
      },
      rounds,
    ),
    compare(
      {
        shape: 'change-image-read',
        path: 'every consumer, for every Kinesis record (the DynamoDB JSON image)',
        inputs: images.filter((image) => image !== undefined),
        hand: (image) => fromItem(image, 'events'),
        library: (image) => commitFromItemWithLibrary(image, 'events'),
      },
      rounds,
    ),
    compare(
      {
        shape: 'document-write',
        path: 'read-model writes (BatchWriteItem)',
        inputs: docs,
        hand: (d) => ({ pk: { S: d.pk }, sk: { S: d.sk }, doc: { S: d.doc } }),
        library: (d) => marshall(d),
      },
      rounds,
    ),
    compare(
      {
        shape: 'document-read',
        path: 'read-model reads (BatchGetItem, Query, Scan)',
        inputs: docItems,
        hand: (item) => ({ pk: item.pk.S, sk: item.sk.S, doc: item.doc.S }),
        library: (item) => unmarshall(item),
      },
      rounds,
    ),
  ];
  // The relay builds each commit's item twice: once for its change record, once to clear it.
  const relay = await relayRate(stored, Math.min(rounds, 5));
  const write = figures[0];
  return {
    scenario: name,
    items: count,
    rounds,
    figures,
    relay: {
      value: Math.round(relay),
      unit: 'commits/s forwarded by the local relay (dynalite to kinesalite)',
      us_per_commit: Number((1e6 / relay).toFixed(1)),
      marshall_share: write
        ? Number(((2 * write.extra_ns_per_item * relay) / 1e9).toFixed(4))
        : null,
      marshall_share_note:
        'what util-dynamodb adds to the two items of a commit, as a share of its relay',
    },
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  if (!(MARSHAL_SCENARIOS as readonly string[]).includes(name)) {
    process.stderr.write(`unknown scenario ${name}; known: ${MARSHAL_SCENARIOS.join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(name))}\n`);
}
