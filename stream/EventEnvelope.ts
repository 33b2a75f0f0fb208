/**
 * An event as every consumer sees it: the data at the latest schema version of its type,
 * with where it sits in its aggregate's stream and what caused it.
 */
export interface EventEnvelope<T = Record<string, unknown>> {
  readonly event_id: string;
  readonly event_type: string;
  readonly aggregate_id: string;
  /** Position in the aggregate's stream, from 1. */
  readonly sequence: number;
  /** When the event happened (ISO-8601, UTC). */
  readonly timestamp: string;
  readonly data: T;
  /** Schema version of `data`. */
  readonly version: number;
  /** Shared by every event of one unit of work (an ingest run, a saga). */
  readonly correlation_id: string;
  /** The event (or request) that caused this one, if any. */
  readonly causation_id: string | null;
}

/** An event to append; ids and timestamp are filled in when not given. */
export interface NewEvent<T = Record<string, unknown>> {
  readonly event_type: string;
  readonly data: T;
  /** The idempotency key; a random UUID when not given. */
  readonly event_id?: string;
  readonly timestamp?: string;
  readonly correlation_id?: string;
  readonly causation_id?: string | null;
}
