import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './deadLetterQueue.js';
import { HandlerFunction, type NodeVersion } from './HandlerFunction.js';

export interface SagaSweepProps {
  /** How often every running or compensating saga is driven. @default 1 minute */
  readonly every?: Duration;
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 20 */
  readonly node?: NodeVersion;
}

/**
 * The saga timeout mechanism: a scheduled function that drives every running or compensating
 * saga (from the sagas read model). It wakes sagas that wait longer than the saga consumer
 * sleeps (a debounce, a retry's backoff), and records the timeout of a step whose function
 * died, so the saga retries or compensates. One at a time (reserved concurrency 1); two
 * coordinators on a saga would be harmless, only wasteful.
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
      node: props.node ?? 20,
      timeout: Duration.minutes(5),
      reservedConcurrency: 1,
      environment: props.environment,
    }).function;
    // A missed sweep is replaced by the next one: no retries piling up behind a slow sweep.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(2) });
    this.rule = new Rule(this, 'Schedule', {
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
  }
}
