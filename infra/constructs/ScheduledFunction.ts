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

export interface ScheduledFunctionProps {
  /** The schedule rule's name, e.g. `matchstream-prod-saga-sweep`. */
  readonly name: string;
  /** What the function is, for its role's description. */
  readonly description: string;
  /** What the schedule does, for the rule's description. */
  readonly does: string;
  /** The handler module under `infra/handlers/`. */
  readonly entry: string;
  /** @default 1 minute */
  readonly every?: Duration;
  /** @default 5 minutes */
  readonly timeout?: Duration;
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 22 */
  readonly node?: NodeVersion;
  /** Reserved concurrency; none when absent. */
  readonly reservedConcurrency?: number;
}

/**
 * A function its schedule rule runs every `every`. A missed run is replaced by the next one:
 * no retries piling up behind a slow run. A failed run is kept in the dead-letter queue
 * (watched), as the rule's undelivered ones.
 */
export class ScheduledFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly deadLetters: sqs.Queue;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    this.deadLetters = deadLetterQueue(
      this,
      'DeadLetters',
      props.key,
      `${props.description} invocations`,
    );
    this.function = new HandlerFunction(this, 'Handler', {
      description: props.description,
      entry: props.entry,
      node: props.node ?? 22,
      timeout: props.timeout ?? Duration.minutes(5),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrency: props.reservedConcurrency }
        : {}),
      environment: props.environment,
    }).function;
    this.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(2),
      onFailure: new SqsDestination(this.deadLetters),
    });
    this.rule = new Rule(this, 'Schedule', {
      ruleName: props.name,
      description: props.does,
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
