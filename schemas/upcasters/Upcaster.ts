/** What an upcaster may know of the event beyond its data. */
export interface UpcastContext {
  readonly eventId: string;
  readonly aggregateId: string;
  /** When the event was recorded (ISO-8601). */
  readonly timestamp: string;
}

/**
 * Turns the data of one version of an event type into the next version, where the meaning
 * changed and Avro schema resolution alone cannot bridge the two. Pure; throws on data it
 * cannot convert (the registry reports it as a `SchemaError`).
 */
export interface Upcaster {
  readonly eventType: string;
  /** Reads data of this version... */
  readonly fromVersion: number;
  /** ...and returns data of `fromVersion + 1`. */
  upcast(data: Readonly<Record<string, unknown>>, context: UpcastContext): Record<string, unknown>;
}
