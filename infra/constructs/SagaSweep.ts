import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue, grantDeadLetterDelivery } from './deadLetterQueue.js';
import { HandlerFunction, type NodeVersion } from './HandlerFunction.js';

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
export class SagaSweep extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly deadLetters: sqs.Queue;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: SagaSweepProps) {
    super(scope, id);
    this.deadLetters = deadLetterQueue(this, 'DeadLetters', props.key, 'the sweep invocations');
    this.function = new HandlerFunction(this, 'Handler', {
      description: 'the saga sweep',
      entry: 'sagaSweepFunction.ts',
      node: props.node ?? 22,
      timeout: Duration.minutes(5),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrency: props.reservedConcurrency }
        : {}),
      environment: props.environment,
    }).function;
    // A missed sweep is replaced by the next one: no retries piling up behind a slow sweep.
    // A failed sweep is kept in the dead-letter queue (watched), as the rule's undelivered ones.
    this.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(2),
      onFailure: new SqsDestination(this.deadLetters),
    });
    this.rule = new Rule(this, 'Schedule', {
      ruleName: props.name,
      description: 'drives the running and compensating sagas',
      schedule: Schedule.rate(props.every ?? Duration.minutes(1)),
    });
    this.rule.addTarget(
      new LambdaFunction(this.function, {
        deadLetterQueue: this.deadLetters,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(5),
      }),
    );
    grantDeadLetterDelivery(this, props.key, { name: props.name });
  }
}
