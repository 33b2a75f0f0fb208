/**
 * A poisoned store: between two feeds, items that no consumer can read are written straight
 * into the events table, as a bug or a hand edit would leave them — corrupt Avro, a fingerprint
 * no schema has, the fingerprint of another event type, an event type nobody registered (as a
 * writer with a newer release would), an item that is not a commit at all, a corrupt event at
 * the end of a real match's stream, and a good event after a corrupt one in its stream (held
 * back, as consumers never apply a stream past a gap). Every one must be dead-lettered with a
 * reason naming it, everything else applied, the read models equal to rebuilds (which skip and
 * dead-letter the same events), and `events_in = events_applied + dead_lettered`.
 *
 * Then the fix: the pipeline is restarted with the unregistered type's schema registered (the
 * release that knows it), and every dead letter is redriven. Nothing may be left dead-lettered
 * that the fix made readable (the unregistered type's events, and the correction held back
 * behind one), what is still unreadable must be kept, and every read model must equal a
 * rebuild from scratch again.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Game } from '../domain/games/Game.js';
import { matchAggregateId, resultData } from '../ingest/matchEvents.js';
import {
  type EmbeddedPipeline,
  READ_MODELS_CONSUMER,
  startPipeline,
} from '../pipeline/embeddedPipeline.js';
import { embeddedRedriver, pipelineWiring } from '../pipeline/embeddedRedriver.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import { rebuildReadModel } from '../pipeline/rebuild.js';
import {
  defaultSchemasDir,
  loadSchemas,
  parseSchema,
  SchemaRegistry,
} from '../schemas/SchemaRegistry.js';
import { UPCASTERS } from '../schemas/upcasters/index.js';
import { toItem } from '../stream/eventStore/commitItem.js';
import { EVENTS_TABLE, RELAY_MARKER } from '../stream/eventStore/eventsTable.js';
import { UnreadableEvents } from '../stream/eventStore/UnreadableEvents.js';
import { FolderInvocationRecords, failureFolder } from '../stream/local/failureFolder.js';
import { LocalLetterPlaces, readLocalLetters } from '../stream/redrive/localLetters.js';
import { type RedriveSummary, redriveLetters } from '../stream/redrive/redriveLetters.js';
import { seasonFeeds } from './crash.js';
import { ingestFeed, reconcile } from './reconcile.js';
import { type Rng, seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface PoisonedStoreOptions {
  readonly seed: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly log?: (line: string) => void;
}

/** One planted item: what is wrong with it and where it is. */
interface Planted {
  readonly kind: string;
  readonly aggregate_id: string;
  readonly sequence: number;
  /** Events in it that the consumers cannot apply (the malformed item counts as one). */
  readonly events: number;
}

type Item = Record<string, AttributeValue>;

export async function poisonedStoreScenario(
  options: PoisonedStoreOptions,
): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const { chunks, final } = seasonFeeds({ ...options, chunks: 2 }, rng);
  // Every consumer retries each unreadable record before dead-lettering it,
  // the rebuilds' catch-up consumers too: short pauses between attempts keep the run short.
  const dataDir = mkdtempSync(join(tmpdir(), 'chaos-poisoned-'));
  const settings = { dataDir, debounceMs: 300, retryDelayMs: 10 } as const;
  let pipeline = await startPipeline(settings);
  try {
    const [first = [], second = []] = chunks;
    await ingestFeed(pipeline, first);
    const planted = await plant(pipeline, first, second, rng);
    await ingestFeed(pipeline, second);
    const found = await reconcile(pipeline, chunks, final, log);

    // Every planted event is dead-lettered by the read models' consumer, with a reason.
    const letters = await pipeline.runtime.deadLetters.list(READ_MODELS_CONSUMER);
    const reasons = planted.map((p) => {
      const letter = letters.find(
        (l) =>
          l.record?.kinesis.partitionKey === p.aggregate_id &&
          l.record.kinesis.data !== undefined &&
          recordSequence(l.record.kinesis.data) === p.sequence,
      );
      return { kind: p.kind, where: `${p.aggregate_id}/${p.sequence}`, reason: letter?.error };
    });
    const unexplained = reasons.filter((r) => !r.reason);
    for (const r of unexplained) log(`planted ${r.kind} at ${r.where} was not dead-lettered`);
    const rebuilds = found.details.rebuild_unreadable as Record<string, number>;

    // The fix: the release that registers the unregistered type; then every letter redriven.
    await pipeline.stop();
    pipeline = await startPipeline({ ...settings, schemas: fixedSchemas() });
    const fixed = await fixAndRedrive(pipeline, dataDir, log);
    return {
      scenario: 'poisoned-store',
      seed: options.seed,
      ...found.result,
      passed:
        found.result.passed &&
        unexplained.length === 0 &&
        found.result.dead_lettered === planted.reduce((n, p) => n + p.events, 0) &&
        fixed.passed,
      divergences: found.result.divergences + unexplained.length + fixed.divergences,
      details: {
        ...found.details,
        planted: reasons.map((r) => ({ ...r, reason: r.reason?.slice(0, 300) })),
        rebuild_unreadable: rebuilds,
        after_fix: fixed.details,
      },
    };
  } finally {
    await pipeline.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A type no release of the project registers, written by a newer release (the planted items'
 * writer); the fix registers it.
 */
const ABANDONED_SCHEMA = parseSchema(
  'MatchAbandoned',
  1,
  JSON.stringify({
    type: 'record',
    name: 'MatchAbandoned',
    namespace: 'matchstream.events',
    doc: 'A match stopped before its end (known to the fixed release only).',
    fields: [
      { name: 'match_id', type: 'string' },
      { name: 'minute', type: 'int' },
    ],
  }),
  'chaos/MatchAbandoned/v1.avsc',
);

/** The project's schemas and the one the fix registers. */
function fixedSchemas(): SchemaRegistry {
  const base = SchemaRegistry.fromDirectory();
  return new SchemaRegistry(
    [...loadSchemas(defaultSchemasDir()), ABANDONED_SCHEMA],
    UPCASTERS,
    base.compatibility,
  );
}

/**
 * After the fix: redrives every letter (twice: the second must change nothing), then checks
 * that no letter is left whose events the store now reads, and that every read model equals a
 * rebuild from scratch.
 */
async function fixAndRedrive(
  pipeline: EmbeddedPipeline,
  dataDir: string,
  log: (line: string) => void,
): Promise<{ passed: boolean; divergences: number; details: Record<string, unknown> }> {
  await pipeline.runtime.settle();
  const places = {
    table: pipeline.runtime.deadLetters,
    folder: {
      records: new FolderInvocationRecords(failureFolder(dataDir)),
      path: failureFolder(dataDir),
    },
  };
  const redrive = async (): Promise<RedriveSummary> => {
    const summary = await redriveLetters((await readLocalLetters(places)).letters, {
      redriver: embeddedRedriver(pipelineWiring(pipeline)),
      places: new LocalLetterPlaces(places),
    });
    await pipeline.runtime.settle();
    await pipeline.sagas.settle(60_000);
    await pipeline.runtime.settle();
    return summary;
  };
  const first = await redrive();
  const second = await redrive();
  // What the store still cannot read, with the fix: the only events letters may be left for.
  const unreadable = new Set<string>();
  const tolerant = new UnreadableEvents((e) => unreadable.add(`${e.aggregate_id}/${e.sequence}`));
  for await (const _ of pipeline.runtime.store.readAll({ unreadable: tolerant }));
  const left = (await readLocalLetters(places)).letters;
  const leftReadable = left.filter(
    (l) =>
      l.events.length > 0 &&
      l.events.every((e) => !unreadable.has(`${e.aggregate_id}/${e.sequence}`)),
  );
  for (const l of leftReadable)
    log(
      `after the fix, ${l.consumer} still keeps a letter for readable ${l.events[0]?.aggregate_id}`,
    );
  let divergences = leftReadable.length;
  for (const projection of READ_MODELS) {
    const rebuilt = await rebuildReadModel(pipeline, projection, { verify: true, noSwitch: true });
    if (rebuilt.differences)
      log(`after the fix, ${projection.name}: ${rebuilt.differences} differ`);
    divergences += rebuilt.differences ?? 0;
  }
  const secondChanged = second.redriven.reduce((n, r) => n + r.events, 0);
  if (secondChanged > 0) log(`a second redrive applied ${secondChanged} events again`);
  return {
    passed: divergences === 0 && secondChanged === 0,
    divergences: divergences + secondChanged,
    details: {
      redriven: first.redriven.length,
      events_redriven: first.redriven.reduce((n, r) => n + r.events, 0),
      still_failing: first.still_failing.length,
      skipped: first.skipped.length,
      second_redrive: {
        redriven: second.redriven.length,
        still_failing: second.still_failing.length,
      },
      letters_left: left.length,
      left_readable: leftReadable.length,
      still_unreadable: unreadable.size,
    },
  };
}

/** The sequence of the commit a Kinesis record carries (from its change record's keys). */
function recordSequence(data: string): number | undefined {
  try {
    const change = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as {
      dynamodb?: { Keys?: Item };
    };
    const keys = change.dynamodb?.Keys;
    return keys ? Number(unmarshall(keys).sequence) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the poisoned items, as they would be found in the table, for the relay to forward. */
async function plant(
  pipeline: Awaited<ReturnType<typeof startPipeline>>,
  first: readonly Game[],
  second: readonly Game[],
  rng: Rng,
): Promise<Planted[]> {
  const { registry, dynamo, store } = pipeline.runtime;
  const sample = first[0];
  if (!sample) throw new Error('the first feed is empty');
  const result = (id: string) => ({ ...resultData({ ...sample, matchId: id }, `match:${id}`) });
  const recorded = (id: string) => registry.encode('MatchRecorded', result(id));
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rng() * 256));
  const put = (item: Item) =>
    dynamo.send(
      new PutItemCommand({ TableName: EVENTS_TABLE, Item: { ...item, ...RELAY_MARKER } }),
    );
  const commitItem = (
    aggregateId: string,
    sequence: number,
    event: { type: string; fingerprint: string; bytes: Uint8Array },
  ) =>
    toItem({
      aggregate_id: aggregateId,
      sequence,
      last_sequence: sequence,
      committed_at: new Date().toISOString(),
      events: [
        {
          event_id: randomUUID(),
          event_type: event.type,
          version: 1,
          fingerprint: event.fingerprint,
          data: event.bytes,
          timestamp: new Date().toISOString(),
          correlation_id: randomUUID(),
          causation_id: null,
        },
      ],
    });
  // A string length of about 2^34 first: the bytes can never decode.
  const corrupt = () =>
    Buffer.concat([Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x7f]), randomBytes(4)]);
  const good = recorded('planted');
  const planted: Planted[] = [];

  const corruptId = 'match:planted-corrupt';
  await put(commitItem(corruptId, 1, { ...good, type: 'MatchRecorded', bytes: corrupt() }));
  planted.push({ kind: 'corrupt Avro', aggregate_id: corruptId, sequence: 1, events: 1 });

  const unknownId = 'match:planted-unknown-fingerprint';
  await put(
    commitItem(unknownId, 1, {
      type: 'MatchRecorded',
      fingerprint: randomBytes(32).toString('hex'),
      bytes: good.bytes,
    }),
  );
  planted.push({ kind: 'unknown fingerprint', aggregate_id: unknownId, sequence: 1, events: 1 });

  const team = registry.encode('TeamRegistered', {
    team_id: 'Planted',
    name: 'Planted',
    conference: null,
    division: null,
  });
  const mismatchId = 'match:planted-other-type';
  await put(
    commitItem(mismatchId, 1, {
      type: 'MatchRecorded',
      fingerprint: team.fingerprint,
      bytes: team.bytes,
    }),
  );
  planted.push({
    kind: "another type's fingerprint",
    aggregate_id: mismatchId,
    sequence: 1,
    events: 1,
  });

  // Written by a release that knows MatchAbandoned: this one has no schema of it.
  const abandoned = (matchId: string) => ({
    type: 'MatchAbandoned',
    fingerprint: ABANDONED_SCHEMA.fingerprint,
    bytes: ABANDONED_SCHEMA.type.toBuffer({ match_id: matchId, minute: 61 }),
  });
  const typeId = 'match:planted-unknown-type';
  await put(commitItem(typeId, 1, abandoned('planted-unknown-type')));
  planted.push({ kind: 'unregistered event type', aggregate_id: typeId, sequence: 1, events: 1 });

  const malformedId = 'match:planted-malformed';
  // Keys and commit time, so the local relay's index sees it (DynamoDB Streams sees any item).
  await put(
    marshall({
      aggregate_id: malformedId,
      sequence: 1,
      committed_at: new Date().toISOString(),
      events: 'garbage',
    }),
  );
  planted.push({ kind: 'not a commit', aggregate_id: malformedId, sequence: 1, events: 1 });

  // A corrupt event after a real match's last one (a match the second feed does not correct).
  const corrected = new Set(second.map((g) => g.matchId));
  const victim = first.find((g) => !corrected.has(g.matchId));
  if (victim) {
    const victimId = matchAggregateId(victim, 0);
    const next = (await store.version(victimId)) + 1;
    await put(commitItem(victimId, next, { ...good, type: 'MatchRecorded', bytes: corrupt() }));
    planted.push({
      kind: 'corrupt event ending a real stream',
      aggregate_id: victimId,
      sequence: next,
      events: 1,
    });
  }

  // An event of a type nobody registered inside a real match's stream, then a correction: the
  // correction is held back, by the consumers and by every rebuild, whatever types it reads.
  const other = first.find((g) => !corrected.has(g.matchId) && g !== victim);
  if (other) {
    const otherId = matchAggregateId(other, 0);
    const next = (await store.version(otherId)) + 1;
    await put(commitItem(otherId, next, abandoned(other.matchId ?? otherId)));
    planted.push({
      kind: 'unregistered type inside a real stream',
      aggregate_id: otherId,
      sequence: next,
      events: 1,
    });
    await store.append(otherId, next, [
      {
        event_type: 'MatchResultCorrected',
        data: {
          ...resultData({ ...other, homeScore: other.homeScore + 5 }, otherId),
          reason: null,
        },
      },
    ]);
    planted.push({
      kind: 'correction behind an unregistered type',
      aggregate_id: otherId,
      sequence: next + 1,
      events: 1,
    });
  }

  // A good event after a corrupt one: appended through the store, held back by everyone.
  const heldId = 'match:planted-held-back';
  await put(commitItem(heldId, 1, { ...good, type: 'MatchRecorded', bytes: corrupt() }));
  planted.push({ kind: 'corrupt Avro', aggregate_id: heldId, sequence: 1, events: 1 });
  await store.append(heldId, 1, [
    { event_type: 'MatchResultCorrected', data: { ...result('held'), reason: null } },
  ]);
  planted.push({
    kind: 'good event after a corrupt one',
    aggregate_id: heldId,
    sequence: 2,
    events: 1,
  });
  pipeline.runtime.relay.notify();
  return planted;
}
