import type { EventData, EventType } from '../schemas/events.js';

/** What every envelope carries besides its type and data. */
interface EnvelopeFields {
  readonly event_id: string;
  readonly aggregate_id: string;
  /** Position in the aggregate's stream, from 1. */
  readonly sequence: number;
  /** When the event happened (ISO-8601, UTC). */
  readonly timestamp: string;
  /** Schema version of `data`. */
  readonly version: number;
  /** Shared by every event of one unit of work (an ingest run, a saga). */
  readonly correlation_id: string;
  /** The event (or request) that caused this one, if any. */
  readonly causation_id: string | null;
}

/**
 * An event of one type as every consumer sees it: the data at the latest schema version of
 * its type (the types generated from the schemas), with where it sits in its aggregate's
 * stream and what caused it.
 */
export interface EnvelopeOf<K extends EventType> extends EnvelopeFields {
  readonly event_type: K;
  readonly data: EventData<K>;
}

/**
 * An event of any of the types `K` (default: every type): the union of their envelopes,
 * discriminated by `event_type`, so a `switch` on it narrows `data`. Only the codec makes
 * these from stored bytes (`CommitCodec`).
 */
export type EventEnvelope<K extends EventType = EventType> = { [T in K]: EnvelopeOf<T> }[K];

/** An event of one type to append; ids and timestamp are filled in when not given. */
export interface NewEventOf<K extends EventType> {
  readonly event_type: K;
  /** The data of the latest version, which the event is written with. */
  readonly data: EventData<K>;
  /** The idempotency key; a random UUID when not given. */
  readonly event_id?: string;
  readonly timestamp?: string;
  readonly correlation_id?: string;
  readonly causation_id?: string | null;
}

/** An event to append, of any of the types `K`: discriminated by `event_type` as envelopes are. */
export type NewEvent<K extends EventType = EventType> = { [T in K]: NewEventOf<T> }[K];

/**
 * For the `default` of an exhaustive `switch` on event types: the compiler refuses the call
 * while a type is not handled above it, so a new event type lists every place that must decide
 * about it. Reached at run time only by a type the code was not built with.
 */
export function unhandled(event: never): never {
  const type = (event as { readonly event_type?: unknown } | null)?.event_type;
  throw new Error(`unhandled event type ${String(type)}`);
}
