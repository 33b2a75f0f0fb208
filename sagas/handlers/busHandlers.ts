import type { Domain } from '../../stream/buses/domains.js';
import type { EventPattern } from '../../stream/buses/eventPattern.js';
import { CALCULATION_EVENTS_PATTERN } from './CalculationEventHandler.js';
import { MATCH_EVENTS_PATTERN } from './MatchEventHandler.js';
import { METADATA_EVENTS_PATTERN } from './MetadataEventHandler.js';

/** Where a bus handler listens: its domain bus, the name of its rule and the rule's pattern. */
export interface BusHandlerRoute {
  readonly bus: Domain;
  readonly rule: string;
  readonly pattern: EventPattern;
}

/**
 * The bus handlers, registered once: the embedded runtime subscribes them to its local buses
 * from this table (`SagaServices.rules`), and the CDK stack makes a function, a rule and its
 * alarms of each entry.
 */
export const BUS_HANDLERS = {
  match: { bus: 'soccer', rule: 'match-event-handler', pattern: MATCH_EVENTS_PATTERN },
  metadata: { bus: 'metadata', rule: 'metadata-event-handler', pattern: METADATA_EVENTS_PATTERN },
  calculation: {
    bus: 'calculation',
    rule: 'calculation-event-handler',
    pattern: CALCULATION_EVENTS_PATTERN,
  },
} as const satisfies Readonly<Record<string, BusHandlerRoute>>;

/** A bus handler's name (the `handler` of its Lambda function). */
export type BusHandlerName = keyof typeof BUS_HANDLERS;

/** The bus handlers' names, in the table's order. */
export const BUS_HANDLER_NAMES = Object.keys(BUS_HANDLERS) as readonly BusHandlerName[];
