import { existsSync } from 'node:fs';
import { type DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import type { DocKey } from '../../projections/Projection.js';
import { FolderStorage } from '../../stream/archive/ArchiveStorage.js';
import { archivedEventCounter } from '../../stream/archive/archivedEventCounts.js';
import { SeasonArchive } from '../../stream/archive/SeasonArchive.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { kinesisClient } from '../../stream/aws/kinesisClient.js';
import {
  DynamoBreakerStateStore,
  type SharedBreakerState,
} from '../../stream/breaker/BreakerStateStore.js';
import { type DeadLetter, DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { countStoredEvents } from '../../stream/eventStore/countStoredEvents.js';
import { EVENTS_TABLE } from '../../stream/eventStore/eventsTable.js';
import { type ConsumerLag, consumerLag } from '../../stream/local/consumerLag.js';
import { CHANGES_STREAM } from '../../stream/local/EmbeddedRuntime.js';
import { startEmbeddedDynamo } from '../../stream/local/embeddedDynamo.js';
import { type EmbeddedKinesis, startEmbeddedKinesis } from '../../stream/local/embeddedKinesis.js';
import { archiveDir, storeDir, streamDir } from '../../stream/local/openEventStore.js';
import { ownServer } from '../../stream/local/serverThread.js';
import { unrelayedCommits } from '../../stream/local/unrelayedCommits.js';
import { CliError } from '../exitCodes.js';
import { type FolderEventCounts, type FolderReader, refuseWrite } from './FolderReader.js';

/** A data folder's tables and stream read through the clients of its servers. */
export class LocalFolderReader implements FolderReader {
  constructor(
    private readonly dynamo: DynamoDBClient,
    /**
     * The client of the folder's change stream, asked for only by what reads the stream (the
     * consumers' lag); resolves to undefined when the folder has no change stream yet.
     */
    private readonly kinesis: () => Promise<KinesisClient | undefined>,
    /** The folder's expired seasons, whose events only the archive holds. */
    private readonly seasons?: SeasonArchive,
    /** The consumers this process runs on the folder, where it runs the pipeline. */
    private readonly running: () => readonly string[] = () => [],
  ) {}

  documents(table: string): DocumentStore {
    const store = new DynamoDocumentStore(this.dynamo, table);
    return {
      getMany: (keys: readonly DocKey[]) => emptyIfMissing(store.getMany(keys), new Map()),
      query: (pk, range) => emptyIfMissing(store.query(pk, range), []),
      // A page at a time: a partition may hold an item per stream (a day's counts, a season's
      // standings).
      queryPages: async function* (pk, range) {
        try {
          yield* store.queryPages(pk, range);
        } catch (error) {
          if (!(error instanceof ResourceNotFoundException)) throw error;
        }
      },
      write: () => refuseWrite(table),
      update: () => refuseWrite(table),
    };
  }

  deadLetters(): Promise<DeadLetter[]> {
    return emptyIfMissing(new DynamoDeadLetterQueue(this.dynamo).list(), []);
  }

  async consumerLag(): Promise<ConsumerLag[]> {
    return consumerLag(this.dynamo, await this.kinesis(), CHANGES_STREAM, this.running());
  }

  unrelayedCommits(): Promise<number> {
    return unrelayedCommits(this.dynamo);
  }

  async storedEvents(onItems?: (items: number) => void): Promise<FolderEventCounts> {
    const indexed = await this.seasons?.all();
    const archived = indexed && indexed.size > 0 ? archivedEventCounter(indexed) : undefined;
    let items = 0;
    const table = await countStoredEvents(this.dynamo, EVENTS_TABLE, {
      onItem: (item) => {
        archived?.onItem(item);
        if (++items % 1000 === 0) onItems?.(items);
      },
    });
    return archived ? { ...table, archived: archived.counts() } : table;
  }

  breakers(): Promise<SharedBreakerState[]> {
    return emptyIfMissing(new DynamoBreakerStateStore(this.dynamo).list(), []);
  }
}

/** What a table that does not exist yet holds: nothing. */
async function emptyIfMissing<T>(reading: Promise<T>, empty: T): Promise<T> {
  try {
    return await reading;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return empty;
    throw error;
  }
}

/**
 * Refuses a data folder that does not exist (or holds no store), naming it: commands that
 * read or change what a folder holds never create one.
 */
export function requireDataFolder(dataDir: string): void {
  if (!existsSync(dataDir))
    throw new CliError(
      `there is no data folder ${dataDir}: nothing was ingested or run there (matchstream ingest FILE --data-dir ${dataDir}, or matchstream start --data-dir ${dataDir})`,
    );
  if (!existsSync(storeDir(dataDir)))
    throw new CliError(
      `${dataDir} is not a matchstream data folder: it has no event store (${storeDir(dataDir)})`,
    );
}

/**
 * Opens a data folder for reading: its dynalite, and its kinesalite when it has a change
 * stream and something reads it, creating nothing (no folder, no table, no stream).
 * `close()` stops them.
 */
export async function openDataFolder(
  dataDir: string,
): Promise<{ reader: FolderReader; close(): Promise<void> }> {
  requireDataFolder(dataDir);
  // On a thread of its own, as every embedded dynalite: counting a folder's events (`status`)
  // reads every item, and the server then scans while this thread parses.
  const dynamoServer = await startEmbeddedDynamo({ thread: true, dataDir: storeDir(dataDir) });
  const dynamo = dynamoClient(ownServer(dynamoServer.endpoint));
  // kinesalite only for what reads the stream (`status`, `projections list`): loading it and
  // opening the stream's store took about a sixth of the CPU of a command that reads tables only
  // (`saga list`, `dead-letters list`). On a thread too: a stream store that cannot be opened
  // then fails the requests with the reason, where in this thread it would end the process.
  let stream: Promise<{ server: EmbeddedKinesis; client: KinesisClient } | undefined> | undefined;
  const openStream = () => {
    stream ??= existsSync(streamDir(dataDir))
      ? startEmbeddedKinesis({ thread: true, dataDir: streamDir(dataDir) }).then((server) => ({
          server,
          client: kinesisClient(ownServer(server.endpoint)),
        }))
      : Promise.resolve(undefined);
    return stream;
  };
  return {
    reader: new LocalFolderReader(
      dynamo,
      async () => (await openStream())?.client,
      new SeasonArchive(new FolderStorage(archiveDir(dataDir))),
    ),
    async close() {
      dynamo.destroy();
      try {
        // A stream that failed to open was said to whoever asked for it.
        const opened = await stream?.catch(() => undefined);
        opened?.client.destroy();
        await opened?.server.stop();
      } finally {
        await dynamoServer.stop();
      }
    },
  };
}
