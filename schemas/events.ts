import type { EventDataVersions, LatestVersions } from './generated/events.js';

export type * from './generated/events.js';

/** Every event type of the catalog: a folder of `schemas/avro` each. */
export type EventType = keyof EventDataVersions;

/** The versions an event type has. */
export type VersionOf<K extends EventType> = keyof EventDataVersions[K] & number;

/** The data of one version of an event type, as Avro decodes it (types from the schema). */
export type DataAt<K extends EventType, V extends VersionOf<K>> = EventDataVersions[K][V];

/** The latest version of an event type. */
export type LatestVersion<K extends EventType> = LatestVersions[K] & VersionOf<K>;

/**
 * The data of an event type as the code sees it: the latest version, which new events are
 * written with and every stored one is read at (resolved by Avro and upcast).
 */
export type EventData<K extends EventType> = DataAt<K, LatestVersion<K>>;

/** The saga lifecycle events, which the coordinator appends to a saga's stream. */
export type SagaEventType = Extract<EventType, `Saga${string}`>;
