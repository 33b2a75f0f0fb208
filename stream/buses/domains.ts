import type { EventType } from '../../schemas/events.js';

/** The four domain buses. */
export const DOMAINS = ['main', 'soccer', 'calculation', 'metadata'] as const;
export type Domain = (typeof DOMAINS)[number];

/**
 * The bus of every event type: a record over the whole catalog, so a new event type fails the
 * type check until it is given a bus.
 */
const BUS_OF: Readonly<Record<EventType, Domain>> = {
  MatchScheduled: 'soccer',
  MatchRecorded: 'soccer',
  MatchResultCorrected: 'soccer',
  MatchCancelled: 'soccer',
  SeasonClosed: 'soccer',
  TeamRegistered: 'metadata',
  TeamMetadataUpdated: 'metadata',
  RpiCalculationRequested: 'calculation',
  RpiCalculated: 'calculation',
  RpiResultsPublished: 'calculation',
  RpiResultsRetracted: 'calculation',
  RankingsCacheUpdated: 'calculation',
  SagaStarted: 'main',
  SagaStepStarted: 'main',
  SagaStepHeld: 'main',
  SagaStepCompleted: 'main',
  SagaStepFailed: 'main',
  SagaCompensationCompleted: 'main',
  SagaCompensationFailed: 'main',
  SagaCompleted: 'main',
  SagaCompensated: 'main',
};
const BY_EVENT_TYPE: ReadonlyMap<string, Domain> = new Map(Object.entries(BUS_OF));

/**
 * The bus an event type is published on: matches on `soccer`, teams on `metadata`, RPI and
 * rankings on `calculation`, saga lifecycle events on `main`; a name of no event type (of a
 * stored item no schema reads) on `main` too.
 */
export function domainOf(eventType: string): Domain {
  return BY_EVENT_TYPE.get(eventType) ?? 'main';
}

/** The `Source` of events published on a domain's bus. */
export function sourceOf(domain: Domain): string {
  return `matchstream.${domain}`;
}

/** Bus names for a stage, e.g. `matchstream-dev-soccer`; without a stage `matchstream-soccer`. */
export function busNames(stage?: string): Readonly<Record<Domain, string>> {
  const prefix = stage ? `matchstream-${stage}` : 'matchstream';
  return {
    main: `${prefix}-main`,
    soccer: `${prefix}-soccer`,
    calculation: `${prefix}-calculation`,
    metadata: `${prefix}-metadata`,
  };
}
