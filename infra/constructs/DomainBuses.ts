import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { DOMAINS, type Domain, sourceOf } from '../../stream/buses/domains.js';

export interface DomainBusesProps {
  /** Prefix of the bus names, e.g. `matchstream-prod`. */
  readonly prefix: string;
  /** How long each bus's archive keeps events for replay. @default 90 days */
  readonly archiveRetention?: Duration;
}

/**
 * The four domain buses (`main`, `soccer`, `calculation`, `metadata`), each with an archive of
 * everything published on it, from which EventBridge can replay.
 */
export class DomainBuses extends Construct {
  readonly buses: Readonly<Record<Domain, events.EventBus>>;

  constructor(scope: Construct, id: string, props: DomainBusesProps) {
    super(scope, id);
    const buses = {} as Record<Domain, events.EventBus>;
    for (const domain of DOMAINS) {
      const bus = new events.EventBus(this, domain, { eventBusName: `${props.prefix}-${domain}` });
      bus.archive(`${domain}Archive`, {
        description: `every event published on the ${domain} bus`,
        eventPattern: { source: [sourceOf(domain)] },
        retention: props.archiveRetention ?? Duration.days(90),
      });
      buses[domain] = bus;
    }
    this.buses = buses;
  }

  /** Bus names by domain, as the bus router is told them. */
  names(): Record<Domain, string> {
    return Object.fromEntries(DOMAINS.map((d) => [d, this.buses[d].eventBusName])) as Record<
      Domain,
      string
    >;
  }
}
