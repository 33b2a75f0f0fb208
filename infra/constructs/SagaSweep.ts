import type { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { NodeVersion } from './HandlerFunction.js';
import { ScheduledFunction } from './ScheduledFunction.js';

export interface SagaSweepProps {
  /** The schedule rule's name, e.g. `matchstream-prod-saga-sweep`. */
  readonly name: string;
  /** How often every running or compensating saga is driven. @default 1 minute */
  readonly every?: Duration;
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 22 */
  readonly node?: NodeVersion;
  /**
   * Reserved concurrency; none by default: the lease keeps sweeps one at a time, and a
   * reservation needs an account quota of at least 100 + the sum of all reservations.
   */
  readonly reservedConcurrency?: number;
}

/**
 * The saga timeout mechanism: a scheduled function that drives every running or compensating
 * saga (from the sagas read model). It wakes sagas that wait longer than the saga consumer
 * sleeps (a debounce, a retry's backoff), and records the timeout of a step whose function
 * died, so the saga retries or compensates. One at a time through a lease in the work table
 * (`SweepLease`), not reserved concurrency, which fails the deploy on accounts with a low
 * concurrency quota; two coordinators on a saga would be harmless, only wasteful.
 */
export class SagaSweep extends ScheduledFunction {
  constructor(scope: Construct, id: string, props: SagaSweepProps) {
    super(scope, id, {
      ...props,
      description: 'the saga sweep',
      does: 'drives the running and compensating sagas',
      entry: 'sagaSweepFunction.ts',
    });
  }
}
