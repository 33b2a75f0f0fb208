import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  type EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import {
  type EventSourceMappingConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { putRecordsReliably } from '../../stream/aws/putRecordsReliably.js';
import { compilePattern } from '../../stream/buses/eventPattern.js';
import { commitChange, itemChange } from '../../stream/changes/commitChange.js';
import type { KinesisStreamBatchResponse } from '../../stream/consumer/kinesisEvent.js';
import { lambdaRecords } from '../../stream/consumer/kinesisEvent.js';
import { fromItem } from '../../stream/eventStore/commitItem.js';

/** Runs a deployed function (by ARN) on an event: what Lambda would invoke. */
export type Invoke = (functionArn: string, event: unknown) => Promise<unknown>;

export interface DeployedChainOptions {
  readonly dynamo: DynamoDBClient;
  readonly kinesis: KinesisClient;
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly region: string;
  /** The deployed events table and change stream. */
  readonly eventsTable: string;
  readonly streamName: string;
  /** The deployed buses, by name. */
  readonly buses: readonly string[];
  readonly invoke: Invoke;
}

/** What one pass moved: commits captured, records handed to functions, bus events delivered. */
export interface Pass {
  captured: number;
  records: number;
  busEvents: number;
  /** Deliveries by target function ARN (stream batches and bus events). */
  invocations: Map<string, number>;
}

/**
 * The deployed stack's data path, run where moto stops short, with AWS's own contracts:
 * - Capture: moto's DynamoDB has no Kinesis streaming destination, so new items of the events
 *   table become change records in the format that feature writes (stream/changes, the same
 *   code as the local relay) put on the deployed stream.
 * - Event source mappings: moto does not poll Kinesis for Lambda, so each mapping the stack
 *   made (ListEventSourceMappings on the stream) is read as Lambda reads it: shard by shard with
 *   GetRecords, at most BatchSize records per batch, from TRIM_HORIZON, handed to its function
 *   as the Lambda event; a batch item failure fails the pass.
 * - Bus handlers' queues: moto's EventBridge puts each event its rule matches on the rule's
 *   queue, but moto invokes a queue's Lambda mapping only through Docker, so each queue mapping
 *   the stack made is disabled and read as Lambda reads it: ReceiveMessage, at most BatchSize
 *   messages per batch, handed to its function as the Lambda SQS event; what the partial batch
 *   response does not report is deleted, and a reported message fails the pass.
 */
export class DeployedChain {
  private readonly forwarded = new Set<string>();
  private readonly checkpoints = new Map<string, string>();
  /** Per deployed rule whose target is a queue a mapping reads: the queue, its functions. */
  private readonly targets: {
    rule: string;
    bus: string;
    queueUrl: string;
    queueArn: string;
    batchSize: number;
    functions: string[];
  }[] = [];
  private streamArn = '';

  private constructor(private readonly options: DeployedChainOptions) {}

  static async open(options: DeployedChainOptions): Promise<DeployedChain> {
    const chain = new DeployedChain(options);
    const { StreamDescriptionSummary } = await options.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: options.streamName }),
    );
    chain.streamArn = StreamDescriptionSummary?.StreamARN ?? '';
    for (const bus of options.buses) {
      const { Rules = [] } = await options.eventBridge.send(
        new ListRulesCommand({ EventBusName: bus }),
      );
      for (const rule of Rules) {
        const { Targets = [] } = await options.eventBridge.send(
          new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: bus }),
        );
        for (const target of Targets) {
          if (!target.Arn?.startsWith('arn:aws:sqs:')) continue;
          if (target.Input || target.InputPath || target.InputTransformer)
            throw new Error(`rule ${rule.Name}: a target that reshapes the event is not emulated`);
          const { EventSourceMappings = [] } = await options.lambda.send(
            new ListEventSourceMappingsCommand({ EventSourceArn: target.Arn }),
          );
          if (EventSourceMappings.length === 0) continue;
          for (const m of EventSourceMappings)
            await options.lambda.send(
              new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: false }),
            );
          const { QueueUrl = '' } = await options.sqs.send(
            new GetQueueUrlCommand({ QueueName: target.Arn.split(':').at(-1) }),
          );
          chain.targets.push({
            rule: rule.Name ?? '',
            bus,
            queueUrl: QueueUrl,
            queueArn: target.Arn,
            batchSize: Math.min(10, ...EventSourceMappings.map((m) => m.BatchSize ?? 10)),
            functions: EventSourceMappings.map((m) => m.FunctionArn ?? ''),
          });
        }
      }
    }
    return chain;
  }

  /** The event source mappings the stack made on the stream. */
  async mappings(): Promise<EventSourceMappingConfiguration[]> {
    const { EventSourceMappings = [] } = await this.options.lambda.send(
      new ListEventSourceMappingsCommand({ EventSourceArn: this.streamArn }),
    );
    return EventSourceMappings;
  }

  /** Passes until one moves nothing; throws after `maxPasses`. Returns every pass. */
  async settle(maxPasses = 20): Promise<Pass[]> {
    const passes: Pass[] = [];
    for (let n = 0; n < maxPasses; n++) {
      const pass = await this.pass();
      passes.push(pass);
      if (pass.captured + pass.records + pass.busEvents === 0) return passes;
    }
    throw new Error(`the chain did not settle in ${maxPasses} passes`);
  }

  /** Captures new commits, hands every mapping its records, delivers what reached the buses. */
  async pass(): Promise<Pass> {
    const invocations = new Map<string, number>();
    const count = (arn: string) => invocations.set(arn, (invocations.get(arn) ?? 0) + 1);
    const captured = await this.capture();
    let records = 0;
    for (const mapping of await this.mappings()) records += await this.poll(mapping, count);
    const busEvents = await this.deliver(count);
    return { captured, records, busEvents, invocations };
  }

  private async capture(): Promise<number> {
    const { dynamo, eventsTable, kinesis, streamName, region } = this.options;
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({ TableName: eventsTable, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const fresh = items
      .filter((item) => !this.forwarded.has(keyOf(item)))
      .sort((a, b) => (a.committed_at?.S ?? '').localeCompare(b.committed_at?.S ?? ''));
    if (fresh.length === 0) return 0;
    const records = fresh.map((item) => {
      let change: ReturnType<typeof commitChange>;
      try {
        change = commitChange(fromItem(item, eventsTable), eventsTable, region);
      } catch {
        change = itemChange(item, eventsTable, region);
      }
      return {
        data: Buffer.from(JSON.stringify(change.record)),
        partitionKey: change.partitionKey,
      };
    });
    const { failed } = await putRecordsReliably(kinesis, streamName, records);
    if (failed.length > 0) throw new Error(`Kinesis refused ${failed.length} change records`);
    for (const item of fresh) this.forwarded.add(keyOf(item));
    return fresh.length;
  }

  private async poll(
    mapping: EventSourceMappingConfiguration,
    count: (arn: string) => void,
  ): Promise<number> {
    const { kinesis, region, invoke } = this.options;
    const functionArn = mapping.FunctionArn ?? '';
    const { Shards = [] } = await kinesis.send(
      new ListShardsCommand({ StreamName: this.options.streamName }),
    );
    const filters = (mapping.FilterCriteria?.Filters ?? []).map((f) =>
      compilePattern(f.Pattern ?? '{}'),
    );
    const passes =
      filters.length === 0
        ? undefined
        : (data: unknown) => data !== undefined && filters.some((matches) => matches({ data }));
    let handed = 0;
    for (const { ShardId: shardId = '' } of Shards) {
      const checkpoint = `${mapping.UUID}/${shardId}`;
      const after = this.checkpoints.get(checkpoint);
      let { ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: this.options.streamName,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
            : {
                ShardIteratorType:
                  mapping.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
              }),
        }),
      );
      while (iterator) {
        const page = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: mapping.BatchSize ?? 100 }),
        );
        const got = page.Records ?? [];
        if (got.length === 0) break;
        // Lambda's filter criteria: a record no filter matches is never handed over, and
        // the mapping moves past it.
        const kept = passes ? got.filter((r) => passes(dataOf(r.Data))) : got;
        if (kept.length > 0) {
          const response = (await invoke(functionArn, {
            Records: lambdaRecords(kept, shardId, this.streamArn, region),
          })) as KinesisStreamBatchResponse;
          count(functionArn);
          if (response.batchItemFailures.length > 0)
            throw new Error(
              `${functionArn} reported ${response.batchItemFailures.length} failed records of ${shardId}`,
            );
        }
        this.checkpoints.set(checkpoint, got.at(-1)?.SequenceNumber ?? '');
        handed += kept.length;
        iterator = page.NextShardIterator;
      }
    }
    return handed;
  }

  /** The deployed rules whose queues the chain hands to their functions: rule, bus, functions. */
  get ruleTargets(): readonly { rule: string; bus: string; functions: readonly string[] }[] {
    return this.targets;
  }

  private async deliver(count: (arn: string) => void): Promise<number> {
    const { sqs, invoke, region } = this.options;
    let delivered = 0;
    for (const { queueUrl, queueArn, batchSize, functions } of this.targets)
      for (const arn of functions)
        for (;;) {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: batchSize,
              VisibilityTimeout: 30,
              MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            }),
          );
          if (Messages.length === 0) break;
          const response = (await invoke(arn, {
            Records: Messages.map((m) => ({
              messageId: m.MessageId,
              receiptHandle: m.ReceiptHandle,
              body: m.Body,
              attributes: m.Attributes ?? {},
              messageAttributes: {},
              md5OfBody: m.MD5OfBody,
              eventSource: 'aws:sqs',
              eventSourceARN: queueArn,
              awsRegion: region,
            })),
          })) as { batchItemFailures: { itemIdentifier: string }[] };
          count(arn);
          if (response.batchItemFailures.length > 0)
            throw new Error(
              `${arn} reported ${response.batchItemFailures.length} failed messages of ${queueArn}`,
            );
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
          delivered += Messages.length;
        }
    return delivered;
  }
}

function keyOf(item: Record<string, AttributeValue>): string {
  return `${item.aggregate_id?.S}#${item.sequence?.N}`;
}

/** A record's data as JSON, as Lambda's filters read it; undefined when it is not JSON. */
function dataOf(bytes: Uint8Array | undefined): unknown {
  try {
    return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
