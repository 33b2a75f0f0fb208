import { READ_MODELS } from '../../pipeline/readModels.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import type { Projection } from '../../projections/Projection.js';
import {
  type Generation,
  REGISTRY_TABLE,
  ReadModelRegistry,
} from '../../projections/ReadModelRegistry.js';
import type { ArchivedEventCounts } from '../../stream/archive/archivedEventCounts.js';
import type { SharedBreakerState } from '../../stream/breaker/BreakerStateStore.js';
import type { DeadLetter } from '../../stream/consumer/DeadLetterQueue.js';
import type { StoredEventCounts } from '../../stream/eventStore/countStoredEvents.js';
import type { ConsumerLag } from '../../stream/local/consumerLag.js';
import { CliError } from '../exitCodes.js';

/** The events a data folder's store holds: the table's, and the archive's of expired seasons. */
export type FolderEventCounts = StoredEventCounts & {
  /** Absent when no season has expired. */
  readonly archived?: ArchivedEventCounts;
};

/**
 * What the commands that only look at a data folder read (`status`, `projections list`,
 * `saga list`, `saga show`, `inspect --dead-letters`): its tables and its change stream. Read
 * on the folder itself, or asked of the `serve` process that holds it; the same answers either
 * way, so the commands print the same. Nothing here writes, and what does not exist yet (a
 * folder ingested into but never run has no read models) reads as empty.
 */
export interface FolderReader {
  /** The documents of a table, read only. */
  documents(table: string): DocumentStore;
  /** Every dead letter, of every consumer. */
  deadLetters(): Promise<DeadLetter[]>;
  /** How far behind the change stream each consumer with a checkpoint is. */
  consumerLag(): Promise<ConsumerLag[]>;
  /**
   * Commits stored that the change relay has not put on the change stream yet (a folder
   * ingested into while no pipeline ran): behind whatever the consumers' lag says.
   */
  unrelayedCommits(): Promise<number>;
  /**
   * The events the table holds, by type and day, and those of expired seasons that only the
   * archive holds. `onItems` hears how many of the table's items were read so far, where the
   * reading is done here.
   */
  storedEvents(onItems?: (items: number) => void): Promise<FolderEventCounts>;
  /** The circuit breakers' state as the pipeline last wrote it (one entry per breaker that opened). */
  breakers(): Promise<SharedBreakerState[]>;
}

/** A projection by its name, or an error listing the names. */
export function readModelNamed(name: string): Projection {
  const projection = READ_MODELS.find((p) => p.name === name);
  if (!projection)
    throw new Error(
      `unknown read model "${name}"; there are ${READ_MODELS.map((p) => p.name).join(', ')}`,
    );
  return projection;
}

/** The read-model registry of the folder (a read model never rebuilt is at generation 1). */
export function readModelRegistry(reader: FolderReader): ReadModelRegistry {
  return new ReadModelRegistry(reader.documents(REGISTRY_TABLE));
}

/** The generation of a read model the queries read. */
export function activeGeneration(reader: FolderReader, name: string): Promise<Generation> {
  return readModelRegistry(reader).active(readModelNamed(name));
}

/** The documents of a read model's active generation. */
export async function activeDocuments(reader: FolderReader, name: string): Promise<DocumentStore> {
  return reader.documents((await activeGeneration(reader, name)).table);
}

/**
 * Each consumer's lag, or why the change stream could not be read (`consumers` null): its store
 * damaged, or held by another program. What else a command shows does not need the stream.
 */
export async function lagOrReason(
  reader: FolderReader,
): Promise<{ consumers: ConsumerLag[] | null; stream_unreadable?: string }> {
  try {
    return { consumers: await reader.consumerLag() };
  } catch (error) {
    return { consumers: null, stream_unreadable: (error as Error).message };
  }
}

/**
 * The error of a command that showed what a data folder's tables hold but could not read its
 * change stream (`reason`: why; its store damaged, or held by another program).
 */
export function streamUnreadable(reason: string): CliError {
  return new CliError(
    `the change stream cannot be read, so the consumers' lag is unknown: ${reason}`,
  );
}

/** Refuses writes: the stores a `FolderReader` hands out are for reading. */
export function refuseWrite(table: string): never {
  throw new Error(`${table} is opened for reading only`);
}
