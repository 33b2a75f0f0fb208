import { busEntryOf } from '../../stream/buses/BusPublisher.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';

/** An event as its domain bus delivers it to a target (an EventBridge event). */
export function busEvent(event: EventEnvelope, replayed = false) {
  const entry = busEntryOf(event, { replayed });
  return {
    version: '0',
    id: event.event_id,
    'detail-type': entry.detailType,
    source: entry.source,
    time: entry.time,
    detail: entry.detail,
  };
}
