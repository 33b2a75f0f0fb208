import {
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { ArchivedEventStore } from '../archive/ArchivedEventStore.js';
import { type ArchiveStorage, FolderStorage } from '../archive/ArchiveStorage.js';
import { SeasonArchive } from '../archive/SeasonArchive.js';
import { REGION_SOURCES } from '../aws/clientConfig.js';
import { dynamoClient } from '../aws/dynamoClient.js';
import { DynamoEventStore } from '../eventStore/DynamoEventStore.js';
import { EVENTS_TABLE, ensureEventsTable } from '../eventStore/eventsTable.js';
import { archiveDir, DEFAULT_DATA_DIR, storeDir } from './dataDir.js';
import { startEmbeddedDynamo } from './embeddedDynamo.js';
import { ownServer } from './serverThread.js';

// The data folder's layout, which much of the code imports from here.
export { archiveDir, DEFAULT_DATA_DIR, storeDir, streamDir } from './dataDir.js';

/** Where the events live: an endpoint, or the embedded dynalite in memory or on disk. */
export interface StoreTarget {
  /**
   * The deployed table on AWS: credentials and region from the environment (the SDK's usual
   * chain, `AWS_REGION`, `AWS_PROFILE`). The table must exist (the CDK app makes it); it is
   * never created. Wins over the others.
   */
  readonly aws?: boolean;
  /** Any DynamoDB endpoint URL; wins over the two below. */
  readonly endpoint?: string;
  /** Keep nothing: embedded dynalite in memory. */
  readonly memory?: boolean;
  /** Embedded dynalite on disk under `<dataDir>/dynamodb` (default `.matchstream`). */
  readonly dataDir?: string;
  readonly table?: string;
  /** Sockets kept open to DynamoDB (at least the append concurrency). */
  readonly maxSockets?: number;
  /** Only to read: the events table is not created when missing. */
  readonly readOnly?: boolean;
  /**
   * The archive whose expired seasons are read as part of the store (`ArchivedEventStore`):
   * with `aws`, the archive bucket. @default the data folder's archive (none in memory or
   * at an endpoint)
   */
  readonly archive?: ArchiveStorage;
}

export interface OpenedStore {
  readonly store: DynamoEventStore;
  readonly client: DynamoDBClient;
  readonly registry: SchemaRegistry;
  readonly endpoint: string;
  readonly table: string;
  /** A description for people: "embedded dynalite (memory)", "http://...". */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * Opens the event store a command works on, starting the embedded dynalite when no endpoint
 * is given and creating the events table if it is missing. `close()` stops what it started.
 */
export async function openEventStore(
  target: StoreTarget = {},
  registry: SchemaRegistry = SchemaRegistry.fromDirectory(),
): Promise<OpenedStore> {
  const table = target.table ?? EVENTS_TABLE;
  if (target.aws) return openDeployedStore(table, registry, target.maxSockets, target.archive);
  // The embedded dynalite runs on a thread of its own, as the pipeline's does, and is handed
  // unsigned requests as messages: a command's client and the server it talks to then share
  // the two cores instead of one (`matchstream ingest` of a 1,000-team season 1.8 times as
  // fast, and 1.3 times again without HTTP: bench/README, "The embedded store on a thread of
  // its own, and requests to it as messages").
  const embedded = target.endpoint
    ? undefined
    : await startEmbeddedDynamo({
        thread: true,
        ...(target.memory ? {} : { dataDir: storeDir(target.dataDir ?? DEFAULT_DATA_DIR) }),
      });
  const endpoint = target.endpoint ?? (embedded?.endpoint as string);
  const client = dynamoClient({
    ...(embedded ? ownServer(endpoint) : { endpoint }),
    ...(target.maxSockets ? { maxSockets: target.maxSockets } : {}),
  });
  try {
    // The embedded store stands in for a table with a stream: its commits carry the marker the
    // change relay forwards them by, so a pipeline started on the folder later sees them.
    if (!target.readOnly)
      await ensureEventsTable(client, table, { relayIndex: embedded !== undefined });
  } catch (error) {
    client.destroy();
    await embedded?.stop();
    throw error;
  }
  const archive =
    target.archive ??
    (embedded && !target.memory
      ? new FolderStorage(archiveDir(target.dataDir ?? DEFAULT_DATA_DIR))
      : undefined);
  return {
    store: storeOn({ client, table, registry, relayMarker: embedded !== undefined }, archive),
    client,
    registry,
    endpoint,
    table,
    description: target.endpoint
      ? target.endpoint
      : target.memory
        ? 'embedded dynalite (in memory)'
        : `embedded dynalite (${storeDir(target.dataDir ?? DEFAULT_DATA_DIR)})`,
    async close() {
      client.destroy();
      await embedded?.stop();
    },
  };
}

/**
 * Checks that a table of the deployed stack exists (DescribeTable), and says which one is
 * missing where, and which stack output and flag name it, rather than DynamoDB's bare
 * "Requested resource not found".
 */
export async function requireDeployedTable(
  client: DynamoDBClient,
  table: string,
  { output, flag }: { readonly output: string; readonly flag: string },
): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException)
      throw new Error(
        `no table "${table}" in ${await client.config.region()}: give the ${output} output of the deployed stack with ${flag} (and its region with ${REGION_SOURCES})`,
        { cause: error },
      );
    throw error;
  }
}

/** The deployed events table, checked to exist (and never created). */
async function openDeployedStore(
  table: string,
  registry: SchemaRegistry,
  maxSockets?: number,
  archive?: ArchiveStorage,
): Promise<OpenedStore> {
  const client = dynamoClient(maxSockets ? { maxSockets } : {});
  const region = await client.config.region();
  try {
    await requireDeployedTable(client, table, { output: 'EventsTable', flag: '--table' });
  } catch (error) {
    client.destroy();
    throw error;
  }
  return {
    store: storeOn({ client, table, registry }, archive),
    client,
    registry,
    endpoint: `https://dynamodb.${region}.amazonaws.com`,
    table,
    description: `DynamoDB table ${table} (${region})`,
    async close() {
      client.destroy();
    },
  };
}

/** The store on the table, reading the archive's expired seasons too when there is one. */
function storeOn(
  options: ConstructorParameters<typeof DynamoEventStore>[0],
  archive: ArchiveStorage | undefined,
): DynamoEventStore {
  return archive
    ? new ArchivedEventStore({ ...options, seasons: new SeasonArchive(archive) })
    : new DynamoEventStore(options);
}
