/**
 * EventBridge faults: the deployed bus router (the Lambda handler of `bus-router`) publishes a
 * season's change records onto four buses of moto_server's EventBridge, each with a rule and
 * an SQS queue behind it, while its EventBridge and DynamoDB calls are throttled, fail with
 * 500s, time out, are answered with a timeout after being done, and PutEvents reports part of
 * its entries failed (`FailedEntryCount`). The records are handed over as Lambda's event
 * source mapping would: in batches, a batch retried when the function throws, and from the
 * reported record on after `batchItemFailures`. Every stored event must arrive on its domain's
 * queue, or be dead-lettered with its error code; none on a wrong bus.
 *
 * EventBridge delivers at least once: a PutEvents whose answer was lost is sent again and its
 * entries arrive twice, with the same event id in `detail` (the bus handlers are idempotent: a
 * second copy changes no result). Copies are counted, not called duplicates.
 *
 * Then the fix: the faults are switched off (the clients without them) and every dead letter
 * is redriven through the bus router's publisher, the events read from the store. Nothing may
 * be left dead-lettered, every stored event must then have arrived on its domain's queue, and
 * a second redrive must find nothing. (This scenario has no read models to compare with a
 * rebuild: the buses' queues are its outcome.)
 */

import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ingestGames } from '../ingest/ingestGames.js';
import { awsRedriver } from '../pipeline/aws/awsRedriver.js';
import { busRouterHandler } from '../pipeline/aws/consumers.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { batchWriteReliably } from '../stream/aws/dynamoBatch.js';
import { dynamoClient } from '../stream/aws/dynamoClient.js';
import { eventBridgeClient } from '../stream/aws/eventBridgeClient.js';
import { DOMAINS, type Domain, domainOf, sourceOf } from '../stream/buses/domains.js';
import { commitChange } from '../stream/changes/commitChange.js';
import { DynamoDeadLetterQueue } from '../stream/consumer/DeadLetterQueue.js';
import { type KinesisStreamRecord, lambdaRecords } from '../stream/consumer/kinesisEvent.js';
import type { Commit } from '../stream/eventStore/Commit.js';
import { fromItem, toItem } from '../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../stream/eventStore/eventsTable.js';
import { InMemoryEventStore } from '../stream/eventStore/InMemoryEventStore.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../stream/local/localTables.js';
import { LocalLetterPlaces, lettersOf } from '../stream/redrive/localLetters.js';
import { redriveLetters } from '../stream/redrive/redriveLetters.js';
import { seasonFeeds } from './crash.js';
import { asEventSourceMapping } from './eventSourceMapping.js';
import { type FaultCounts, type FaultRates, injectFaults } from './faultInjection.js';
import { motoBusToQueue, QueueDrain, startMoto } from './moto.js';
import { seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface BusFaultsOptions {
  readonly seed: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly rates: FaultRates;
  /**
   * Records per invocation of the handler. @default 2 (small, so that a season of a few dozen
   * events makes many calls)
   */
  readonly batchSize?: number;
  readonly log?: (line: string) => void;
}

const REGION = 'us-east-1';
const TABLES = {
  events: 'chaos-events',
  positions: 'chaos-positions',
  deadLetters: 'chaos-dead-letters',
  breakers: 'chaos-breakers',
} as const;
/** Events appended while EventBridge refuses every entry (dead-lettered, then redriven). */
const OUTAGE_EVENTS = 3;
/** What the router puts on a bus, as its queue holds it. */
interface BusMessage {
  readonly detail?: { readonly event_id?: string };
}

export async function busFaultsScenario(options: BusFaultsOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const moto = await startMoto();
  const endpoint = moto.endpoint;
  const setup = {
    dynamo: dynamoClient({ endpoint, region: REGION }),
    events: eventBridgeClient({ endpoint, region: REGION }),
    sqs: new SQSClient({
      endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  };
  const faulty = {
    dynamo: dynamoClient({ endpoint, region: REGION }),
    eventBridge: eventBridgeClient({ endpoint, region: REGION }),
  };
  const draining: QueueDrain<BusMessage>[] = [];
  try {
    // The tables, the four buses, and a rule with a queue behind each bus.
    await ensureEventsTable(setup.dynamo, TABLES.events);
    await ensureKeyValueTable(setup.dynamo, TABLES.positions, 'consumer', 'aggregate_id');
    await ensureKeyValueTable(setup.dynamo, TABLES.deadLetters, 'consumer', 'id');
    await ensureBreakersTable(setup.dynamo, TABLES.breakers);
    const buses = Object.fromEntries(DOMAINS.map((d) => [d, `chaos-${d}`])) as Record<
      Domain,
      string
    >;
    const queues = {} as Record<Domain, string>;
    for (const d of DOMAINS)
      queues[d] = await motoBusToQueue(setup.events, setup.sqs, buses[d], sourceOf(d));

    // A season and its corrections in the store; its commits as the change stream's records.
    // Ingested in memory and the commits written into moto's table as they are: moto answers
    // every Query (an append after the first of a stream makes one) by sorting the whole
    // table, which made the ingest of 10,000 events take 8 minutes.
    const registry = SchemaRegistry.fromDirectory();
    const store = new DynamoEventStore({ client: setup.dynamo, table: TABLES.events, registry });
    const season = new InMemoryEventStore(registry);
    const { chunks } = seasonFeeds({ ...options, chunks: 2 }, rng);
    for (const games of chunks) {
      async function* rows() {
        yield games.map((game, i) => ({ kind: 'game' as const, line: i + 2, game, fields: {} }));
      }
      await ingestGames(rows(), { store: season, concurrency: 8 });
    }
    const streams = new Set<string>();
    for await (const page of season.readAll()) for (const e of page) streams.add(e.aggregate_id);
    await batchWriteReliably(
      setup.dynamo,
      TABLES.events,
      [...streams].flatMap((id) => season.commitsOf(id).map((c) => ({ put: toItem(c) }))),
      ['aggregate_id', 'sequence'],
    );
    const commits = await storedCommits(setup.dynamo);
    const records = changeRecords(commits);
    log(`${commits.length} commits stored`);
    const expected = new Map<string, Domain>();
    for (const c of commits)
      for (const e of c.events) expected.set(e.event_id, domainOf(e.event_type));

    // The handler, its calls broken at the given rates.
    // Each kind once first: a season this small makes few calls.
    const rates = { ...options.rates, eachKindFirst: true };
    const counts: Record<'dynamo' | 'eventBridge', FaultCounts> = {
      dynamo: injectFaults(faulty.dynamo, rates, rng),
      eventBridge: injectFaults(faulty.eventBridge, rates, rng),
    };
    const routerEnv = {
      CONSUMER: 'bus-router',
      EVENTS_TABLE: TABLES.events,
      POSITIONS_TABLE: TABLES.positions,
      DEAD_LETTERS_TABLE: TABLES.deadLetters,
      BREAKERS_TABLE: TABLES.breakers,
      BUS_NAMES: JSON.stringify(buses),
    };
    const handler = busRouterHandler(routerEnv, faulty);
    // The queues drained as they fill (a long queue slows moto's every delivery to it), and
    // each batch handed over once they have been found empty: they hold at most what one
    // invocation published.
    const drains = Object.fromEntries(
      DOMAINS.map((d) => {
        const drain = new QueueDrain<BusMessage>(setup.sqs, queues[d]);
        draining.push(drain);
        return [d, drain];
      }),
    ) as Record<Domain, QueueDrain<BusMessage>>;
    let reported = performance.now();
    const paced: typeof handler = async (event) => {
      await Promise.all(draining.map((d) => d.emptied()));
      if (performance.now() - reported > 30_000) {
        reported = performance.now();
        const received = draining.reduce((n, d) => n + d.bodies.length, 0);
        log(`${received} messages received from the queues`);
      }
      return handler(event);
    };
    const mapping = await asEventSourceMapping(records, paced, {
      batchSize: options.batchSize ?? 2,
      log,
    });
    log(`${records.length} records handed to the router`);

    // A misconfiguration: the router is deployed with bus names that do not exist while three
    // teams register; EventBridge refuses each entry (not retried), and the publisher
    // dead-letters them. The fix (the right names) and a redrive must recover them.
    const outageHandler = busRouterHandler(
      {
        ...routerEnv,
        BUS_NAMES: JSON.stringify(
          Object.fromEntries(DOMAINS.map((d) => [d, `${buses[d]}-missing`])),
        ),
      },
      { dynamo: setup.dynamo, eventBridge: setup.events },
    );
    for (let i = 1; i <= OUTAGE_EVENTS; i++)
      await store.append(`team:outage-${i}`, 0, [
        {
          event_type: 'TeamRegistered',
          data: {
            team_id: `Outage ${i}`,
            name: `Outage ${i}`,
            conference: null,
            division: null,
            region: null,
          },
        },
      ]);
    const outageCommits = await storedCommits(
      setup.dynamo,
      Array.from({ length: OUTAGE_EVENTS }, (_, i) => `team:outage-${i + 1}`),
    );
    for (const c of outageCommits) for (const e of c.events) expected.set(e.event_id, 'metadata');
    for (const record of changeRecords(outageCommits, records.length))
      await outageHandler({ Records: [record] });

    // What arrived on each bus's queue, and what was dead-lettered with why.
    const arrived = new Map<string, number>();
    let misrouted = 0;
    const count = (d: Domain, bodies: readonly BusMessage[]) => {
      for (const id of bodies.map((b) => b.detail?.event_id ?? '?')) {
        arrived.set(id, (arrived.get(id) ?? 0) + 1);
        if (expected.get(id) !== d) misrouted++;
      }
    };
    const before = await Promise.all(DOMAINS.map((d) => drains[d].caughtUp()));
    // What came before the fix (the drains go on: what the redrive puts comes after it).
    const counted = Object.fromEntries(DOMAINS.map((d, i) => [d, before[i]?.length ?? 0]));
    DOMAINS.forEach((d, i) => {
      count(d, before[i] ?? []);
    });
    const letters = await new DynamoDeadLetterQueue(setup.dynamo, TABLES.deadLetters).list();
    log(`${arrived.size} events on the queues, ${letters.length} letters`);
    const deadLettered = new Set<string>();
    for (const letter of letters) {
      const detail = (letter.event as { Detail?: string } | undefined)?.Detail;
      const id = detail ? (JSON.parse(detail) as { event_id?: string }).event_id : undefined;
      if (id) deadLettered.add(id);
    }
    let lost = 0;
    for (const id of expected.keys()) if (!arrived.has(id) && !deadLettered.has(id)) lost++;
    const copies = [...arrived.values()].reduce((n, k) => n + k - 1, 0);
    const injected = {
      dynamo: counts.dynamo,
      eventBridge: counts.eventBridge,
    };
    // Every kind of fault happened to EventBridge calls.
    const everyKind = Object.values(counts.eventBridge).every((n) => n > 0);

    // The fix: no more faults (the clients without them); every letter redriven, then again.
    const table = new DynamoDeadLetterQueue(setup.dynamo, TABLES.deadLetters);
    const redriver = awsRedriver({ store, eventBridge: setup.events, buses });
    const redrive = async () =>
      redriveLetters(lettersOf(await table.entries(), [], '', TABLES.deadLetters).letters, {
        redriver,
        places: new LocalLetterPlaces({ table }),
      });
    const redriven = await redrive();
    const again = await redrive();
    log(`${redriven.letters} letters redriven`);
    const after = await Promise.all(DOMAINS.map((d) => drains[d].stop()));
    DOMAINS.forEach((d, i) => {
      count(d, after[i]?.slice(counted[d]) ?? []);
    });
    const leftAfterFix = (await table.list()).length;
    let lostAfterFix = 0;
    for (const id of expected.keys()) if (!arrived.has(id)) lostAfterFix++;
    if (leftAfterFix > 0 || lostAfterFix > 0)
      log(`after the fix: ${leftAfterFix} letters left, ${lostAfterFix} events never arrived`);
    return {
      scenario: 'eventbridge-faults',
      seed: options.seed,
      passed:
        lost === 0 &&
        misrouted === 0 &&
        mapping.given_up === 0 &&
        everyKind &&
        leftAfterFix === 0 &&
        lostAfterFix === 0 &&
        again.letters === 0,
      events_in: expected.size,
      events_applied: [...expected.keys()].filter((id) => arrived.has(id)).length,
      rejected: 0,
      dead_lettered: [...deadLettered].filter((id) => !arrived.has(id)).length,
      lost,
      duplicated: misrouted,
      divergences: 0,
      details: {
        records: records.length,
        bus_copies_beyond_one: copies,
        dead_letters: letters.map((l) => `${l.consumer}: ${l.error}`.slice(0, 160)),
        mapping,
        rates: options.rates,
        injected,
        after_fix: {
          letters: redriven.letters,
          redriven: redriven.redriven.length,
          still_failing: redriven.still_failing.length,
          skipped: redriven.skipped.length,
          letters_left: leftAfterFix,
          never_arrived: lostAfterFix,
          second_redrive_letters: again.letters,
        },
      },
    };
  } finally {
    await Promise.all(draining.map((d) => d.halt()));
    for (const client of [setup.dynamo, setup.events, setup.sqs, ...Object.values(faulty)])
      client.destroy();
    await moto.stop();
  }
}

/** Every commit in the table (or those of some streams), in commit order within each stream. */
async function storedCommits(
  dynamo: ReturnType<typeof dynamoClient>,
  aggregateIds?: readonly string[],
): Promise<Commit[]> {
  const commits: Commit[] = [];
  for (const id of aggregateIds ?? [undefined]) {
    let start: Record<string, never> | undefined;
    do {
      const page = await dynamo.send(
        id === undefined
          ? new ScanCommand({ TableName: TABLES.events, ExclusiveStartKey: start })
          : new QueryCommand({
              TableName: TABLES.events,
              KeyConditionExpression: 'aggregate_id = :id',
              ExpressionAttributeValues: { ':id': { S: id } },
              ExclusiveStartKey: start,
            }),
      );
      for (const item of page.Items ?? []) commits.push(fromItem(item, TABLES.events));
      start = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (start);
  }
  return commits.sort(
    (a, b) => a.committed_at.localeCompare(b.committed_at) || a.sequence - b.sequence,
  );
}

/** The commits as one shard's records, as Lambda hands them to the function. */
function changeRecords(commits: readonly Commit[], from = 0): KinesisStreamRecord[] {
  return lambdaRecords(
    commits.map((commit, i) => {
      const { record, partitionKey } = commitChange(commit, TABLES.events, REGION);
      return {
        SequenceNumber: String(49_000_000_000_000_000n + BigInt(from + i)),
        PartitionKey: partitionKey,
        Data: Buffer.from(JSON.stringify(record)),
        ApproximateArrivalTimestamp: new Date(),
      };
    }),
    'shardId-000000000000',
    `arn:aws:kinesis:${REGION}:123456789012:stream/chaos-changes`,
    REGION,
  );
}
