/** The four domain buses. */
export const DOMAINS = ['main', 'soccer', 'calculation', 'metadata'] as const;
export type Domain = (typeof DOMAINS)[number];

const BY_EVENT_TYPE: Readonly<Record<string, Domain>> = {
  MatchScheduled: 'soccer',
  MatchRecorded: 'soccer',
  MatchResultCorrected: 'soccer',
  MatchCancelled: 'soccer',
  TeamRegistered: 'metadata',
  TeamMetadataUpdated: 'metadata',
  RpiCalculationRequested: 'calculation',
  RpiCalculated: 'calculation',
  RpiResultsPublished: 'calculation',
  RpiResultsRetracted: 'calculation',
  RankingsCacheUpdated: 'calculation',
};

/**
 * The bus an event type is published on: matches on `soccer`, teams on `metadata`, RPI and
 * rankings on `calculation`; saga lifecycle events and anything else on `main`.
 */
export function domainOf(eventType: string): Domain {
  return BY_EVENT_TYPE[eventType] ?? 'main';
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
