import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SchemaError } from '../../schemas/SchemaError.js';
import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { entrySize, PUT_EVENTS_LIMITS } from '../aws/putEventsReliably.js';
import { type DeliveredEnvelope, envelopeFromJson } from '../eventStore/Commit.js';
import type { EventStore } from '../eventStore/EventStore.js';
import type { BusEntry, ClaimCheck } from './BusPublisher.js';

/** The entry as PutEvents takes it, on this bus. */
function putEventsEntry(entry: BusEntry, busName: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: entry.source,
    DetailType: entry.detailType,
    Detail: JSON.stringify(entry.detail),
    Time: new Date(entry.time),
  };
}

/**
 * The entry to publish: itself when PutEvents takes it (at most 256 KB, counted as EventBridge
 * counts: `entrySize`), else a claim check of it, which EventBridge's guide recommends for
 * larger events (the entry says where the event is; here, its stream and sequence in the
 * store). A season of some 950 teams or more makes an `RpiCalculated` that large (each team
 * takes about 275 bytes of it, its unadjusted rank and RPI beside its own).
 */
export function fitted(
  entry: BusEntry,
  busName: string,
): { entry: BusEntry; request: PutEventsRequestEntry; size: number } {
  const request = putEventsEntry(entry, busName);
  const size = entrySize(request);
  if (size <= PUT_EVENTS_LIMITS.maxRequestBytes || !('data' in entry.detail))
    return { entry, request, size };
  const { data: _left, ...envelope } = entry.detail;
  const claimed: BusEntry = { ...entry, detail: { ...envelope, claim_check: true } };
  const claimedRequest = putEventsEntry(claimed, busName);
  return { entry: claimed, request: claimedRequest, size: entrySize(claimedRequest) };
}

/**
 * The envelope a bus event carries, typed as stored events are (`envelopeFromJson`); for a
 * claim check, the event read from the store at its stream and sequence (a `replayed` mark
 * kept). Undefined when there is no envelope; a claim check of an event the store does not
 * hold throws a `SchemaError` naming it.
 */
export async function deliveredEnvelope(
  detail: unknown,
  registry: SchemaRegistry,
  store: EventStore,
): Promise<DeliveredEnvelope | undefined> {
  const claim = detail as Partial<ClaimCheck> | null | undefined;
  if (claim?.claim_check !== true) return envelopeFromJson(detail, registry);
  const { aggregate_id, sequence } = claim;
  if (typeof aggregate_id !== 'string' || typeof sequence !== 'number')
    throw new SchemaError('INVALID_DATA', 'a claim check without aggregate_id and sequence');
  const [event] = await store.read(aggregate_id, { fromSequence: sequence, toSequence: sequence });
  if (!event || event.event_id !== claim.event_id)
    throw new SchemaError(
      'INVALID_DATA',
      `a claim check of ${aggregate_id} #${sequence}: the store holds no such event`,
    );
  return claim.replayed === true ? { ...event, replayed: true } : event;
}
