import { Duration, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
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
  /**
   * The most instances its queue's event source mapping runs at once (2–1000): a limit that
   * reserves none of the account's concurrency. @default 5
   */
  readonly maxConcurrency?: number;
}

/** The function's timeout: a batch of 10 events, each a few reads and writes. */
export const BUS_HANDLER_TIMEOUT = Duration.minutes(1);
/**
 * How often SQS delivers an event its handler failed on before moving it to the dead-letter
 * queue. Held events never count: they are sent back as new messages.
 */
export const BUS_HANDLER_RECEIVES = 5;
/** Events in one invocation. */
export const BUS_HANDLER_BATCH = 10;

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
 * One of the three bus handlers: its rule on its domain bus puts each event on the handler's
 * queue, and the queue's event source mapping invokes the function with batches of them.
 * Nothing is dropped: EventBridge retries putting an event on the queue for a day, then sends
 * it to the dead-letter queue; an event the function fails on is delivered again, up to
 * `BUS_HANDLER_RECEIVES` times, then SQS moves it to the same dead-letter queue. While a
 * circuit breaker of the handler is open the queue holds the events: the function sends held
 * events back delayed, and the breaker supervisor disables the mapping until a trial is due.
 */
export class BusHandler extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** What the rule delivers, waiting for the function. */
  readonly inbox: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly rule: Rule;
  /** The UUID of the inbox's event source mapping (what the supervisor pauses). */
  readonly mappingId: string;

  constructor(scope: Construct, id: string, props: BusHandlerProps) {
    super(scope, id);
    this.deadLetters = deadLetterQueue(this, 'DeadLetters', props.key, 'the bus events');
    // Lambda's guidance: a visibility timeout of at least six times the function's timeout
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); the longest
    // retention, so an outage has 14 days before an event could expire.
    this.inbox = new sqs.Queue(this, 'Inbox', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * BUS_HANDLER_TIMEOUT.toSeconds()),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: BUS_HANDLER_RECEIVES },
    });
    this.function = new HandlerFunction(this, 'Handler', {
      description: `the ${props.name}`,
      entry: 'busHandlerFunction.ts',
      node: props.node ?? 22,
      memorySize: 512,
      timeout: BUS_HANDLER_TIMEOUT,
      environment: {
        ...props.environment,
        BUS_HANDLER: props.handler,
        INBOX_URL: this.inbox.queueUrl,
      },
    }).function;
    const source = new SqsEventSource(this.inbox, {
      batchSize: BUS_HANDLER_BATCH,
      maxConcurrency: props.maxConcurrency ?? 5,
      reportBatchItemFailures: true,
    });
    this.function.addEventSource(source);
    this.mappingId = source.eventSourceMappingId;
    Validations.of(this.function).acknowledge({
      id: 'Serverless::Serverless-LambdaEventSourceMappingDestination',
      reason:
        "An SQS event source mapping has no on-failure destination: what fails is kept by the queue's redrive policy, which moves an event to the handler's dead-letter queue after its receive count.",
    });
    // Held events go back on the inbox.
    this.inbox.grantSendMessages(this.function);
    this.rule = new Rule(this, 'Rule', {
      eventBus: props.bus,
      ruleName: props.name,
      description: `${props.name}: ${JSON.stringify(props.pattern)}`,
      eventPattern: cdkPattern(props.pattern),
    });
    // The target is the queue by its ARN alone: given the queue itself, the target would let
    // every EventBridge rule anywhere use the stack's key. The rule's own grants instead: the
    // queue's policy lets this rule send, the key lets this rule encrypt (below).
    this.inbox.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.inbox.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.rule.ruleArn } },
      }),
    );
    const target = sqs.Queue.fromQueueAttributes(this, 'InboxTarget', {
      queueArn: this.inbox.queueArn,
      queueUrl: this.inbox.queueUrl,
    });
    this.rule.addTarget(
      new SqsQueue(target, {
        deadLetterQueue: this.deadLetters,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );
    grantDeadLetterDelivery(this, props.key, { bus: props.bus.eventBusName, name: props.name });
  }
}
