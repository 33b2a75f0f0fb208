import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EventPattern } from '../../stream/buses/eventPattern.js';
import { deadLetterQueue, grantDeadLetterDelivery } from './deadLetterQueue.js';
import { HandlerFunction, type NodeVersion } from './HandlerFunction.js';

export interface BusHandlerProps {
  /** The rule's name on its bus, e.g. `match-event-handler`. */
  readonly name: string;
  /** Which handler the function runs (`BUS_HANDLER`): match, metadata or calculation. */
  readonly handler: string;
  readonly bus: events.EventBus;
  /** The handler's rule, as the local bus matches it (`source` and `detail-type` lists). */
  readonly pattern: EventPattern;
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 22 */
  readonly node?: NodeVersion;
  /** Reserved concurrency; none when absent. */
  readonly reservedConcurrency?: number;
}

/** The rule's pattern in the CDK's terms (the handlers' rules use only these two fields). */
export function cdkPattern(pattern: EventPattern): events.EventPattern {
  const list = (field: string): string[] | undefined => {
    const value = (pattern as Record<string, unknown>)[field];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
      throw new Error(`pattern field ${field} must be a list of strings`);
    return value as string[];
  };
  const unknown = Object.keys(pattern).filter((k) => k !== 'source' && k !== 'detail-type');
  if (unknown.length > 0) throw new Error(`pattern fields ${unknown.join(', ')} are not supported`);
  const source = list('source');
  const detailType = list('detail-type');
  return { ...(source ? { source } : {}), ...(detailType ? { detailType } : {}) };
}

/**
 * One of the three bus handlers: a Lambda function as the target of its rule on its domain bus.
 * Nothing is dropped: EventBridge retries delivery for a day and sends what it cannot deliver to
 * the handler's dead-letter queue; a handler failure is retried twice by Lambda's asynchronous
 * invocation, then lands in the same queue with the error.
 */
export class BusHandler extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly deadLetters: sqs.Queue;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: BusHandlerProps) {
    super(scope, id);
    this.deadLetters = deadLetterQueue(this, 'DeadLetters', props.key, 'the bus events');
    this.function = new HandlerFunction(this, 'Handler', {
      description: `the ${props.name}`,
      entry: 'busHandlerFunction.ts',
      node: props.node ?? 22,
      memorySize: 512,
      timeout: Duration.minutes(1),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrency: props.reservedConcurrency }
        : {}),
      environment: { ...props.environment, BUS_HANDLER: props.handler },
    }).function;
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetters),
    });
    this.rule = new Rule(this, 'Rule', {
      eventBus: props.bus,
      ruleName: props.name,
      description: `${props.name}: ${JSON.stringify(props.pattern)}`,
      eventPattern: cdkPattern(props.pattern),
    });
    this.rule.addTarget(
      new LambdaFunction(this.function, {
        deadLetterQueue: this.deadLetters,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );
    grantDeadLetterDelivery(this, props.key, { bus: props.bus.eventBusName, name: props.name });
  }
}
