import { type DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore, eventTypesFilter } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { UnreadableEvents } from '../../../stream/eventStore/UnreadableEvents.js';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { motoAvailable, startMoto } from '../../support/moto.js';
import { matchRecorded, registry, teamRegistered } from '../../support/registry.js';

const codec = new CommitCodec(registry);
const team = (id: string) =>
  codec.build(`team:${id}`, 0, [{ event_type: 'TeamRegistered', data: teamRegistered(id) }]);
const match = (id: string) =>
  codec.build(`match:${id}`, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id) }]);
/** Two events, the first of a type the reader does not want. */
const mixed = codec.build('team:mixed', 0, [
  { event_type: 'TeamRegistered', data: teamRegistered('mixed') },
  {
    event_type: 'TeamMetadataUpdated',
    data: { team_id: 'mixed', name: null, conference: 'East', division: null, region: null },
  },
]);

/**
 * The filter a scan for some event types sends: what DynamoDB holds back is exactly the
 * one-event commits of other types, on dynalite and on moto_server alike.
 */
function scanFilterCases(
  name: string,
  open: () => Promise<{ client: DynamoDBClient; stop: () => Promise<void> }>,
) {
  describe(`scan filter by event type: ${name}`, () => {
    let client: DynamoDBClient;
    let stop: () => Promise<void>;
    let store: DynamoEventStore;

    beforeAll(async () => {
      ({ client, stop } = await open());
      await ensureEventsTable(client, 'events');
      store = new DynamoEventStore({ client, table: 'events', registry });
      for (const commit of [team('a'), match('m1'), match('m2'), mixed])
        await client.send(new PutItemCommand({ TableName: 'events', Item: toItem(commit) }));
      // Not a commit: no events at all. It comes back, for the reader to report.
      await client.send(
        new PutItemCommand({
          TableName: 'events',
          Item: { aggregate_id: { S: 'team:broken' }, sequence: { N: '1' } },
        }),
      );
    }, 60_000);

    afterAll(async () => {
      client?.destroy();
      await stop?.();
    });

    it('holds back the one-event commits of other types, and nothing else', async () => {
      const page = await client.send(
        new ScanCommand({
          TableName: 'events',
          ConsistentRead: true,
          ...eventTypesFilter(['TeamMetadataUpdated']),
        }),
      );

      expect((page.Items ?? []).map((i) => i.aggregate_id?.S).sort()).toEqual([
        'team:broken',
        'team:mixed',
      ]);
      expect(page.ScannedCount).toBe(5);
    });

    it('reads the same events with it as a reader that filters each event', async () => {
      const pages = [];
      const unreadable = new UnreadableEvents();
      for await (const page of store.scanSegmentPages(0, 1, {
        eventTypes: ['TeamRegistered'],
        unreadable,
      }))
        pages.push(page);
      const teams = await collect(store, ['TeamRegistered', 'TeamMetadataUpdated']);

      expect(pages.flatMap((p) => p.events.map((e) => e.aggregate_id)).sort()).toEqual([
        'team:a',
        'team:mixed',
      ]);
      expect(pages.reduce((n, p) => n + p.scanned, 0)).toBe(5);
      expect(teams).toEqual({
        events: [
          'team:a TeamRegistered',
          'team:mixed TeamMetadataUpdated',
          'team:mixed TeamRegistered',
        ],
        unreadable: ['team:broken'],
      });
      expect(await collect(store, ['TeamMetadataUpdated'])).toEqual({
        events: ['team:mixed TeamMetadataUpdated'],
        unreadable: ['team:broken'],
      });
    });
  });
}

/** The events a reader of these types gets, and the items it reports unreadable. */
async function collect(
  store: DynamoEventStore,
  eventTypes: string[],
): Promise<{ events: string[]; unreadable: string[] }> {
  const events: string[] = [];
  const unreadable: string[] = [];
  const report = new UnreadableEvents((e) => unreadable.push(e.aggregate_id));
  for await (const batch of store.readAll({ eventTypes, segments: 2, unreadable: report }))
    events.push(...batch.map((e) => `${e.aggregate_id} ${e.event_type}`));
  return { events: events.sort(), unreadable };
}

scanFilterCases('dynalite', async () => {
  const dynamo = await startEmbeddedDynamo();
  return { client: dynamoClient({ endpoint: dynamo.endpoint }), stop: () => dynamo.stop() };
});

describe.runIf(motoAvailable())('moto_server', () => {
  scanFilterCases('moto_server', async () => {
    const moto = await startMoto();
    return {
      client: dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 }),
      stop: () => moto.stop(),
    };
  });
});
