import type { DataAt, EventType, LatestVersion, VersionOf } from '../events.js';

/** What an upcaster may know of the event beyond its data. */
export interface UpcastContext {
  readonly eventId: string;
  readonly aggregateId: string;
  /** When the event was recorded (ISO-8601). */
  readonly timestamp: string;
}

/** The version after `V` (for the versions a catalog will ever have). */
type Next<V extends number> = [
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
  17,
  18,
  19,
  20,
  21,
  22,
  23,
  24,
  25,
  26,
  27,
  28,
  29,
  30,
  31,
  32,
  33,
][V];

/** The versions of an event type that have a next one. */
export type UpcastableVersion<K extends EventType> = Exclude<VersionOf<K>, LatestVersion<K>>;

/**
 * Turns the data of one version of an event type into the next version, where the meaning
 * changed and Avro schema resolution alone cannot bridge the two. Pure; throws on data it
 * cannot convert (the registry reports it as a `SchemaError`). Typed from the generated data
 * of both versions: `Upcaster<'MatchRecorded', 1>` takes `MatchRecorded` v1 data and returns v2.
 */
export interface Upcaster<K extends EventType, V extends UpcastableVersion<K>> {
  readonly eventType: K;
  /** Reads data of this version... */
  readonly fromVersion: V;
  /** ...and returns data of `fromVersion + 1`. */
  upcast(data: Readonly<DataAt<K, V>>, context: UpcastContext): DataAt<K, Next<V> & VersionOf<K>>;
}

/**
 * An upcaster as the registry keeps it: of any event type and version, since a registry reads
 * any schema folder. Every `Upcaster` is one.
 */
export interface SchemaUpcaster {
  readonly eventType: string;
  readonly fromVersion: number;
  // A method, so an upcaster of typed data is one too: the registry hands each upcaster only
  // data of its own type and version.
  upcast(data: unknown, context: UpcastContext): unknown;
}
