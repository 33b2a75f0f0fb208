import { Arn, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { FeedSettings, RebuildAction } from '../../pipeline/aws/rebuildControl.js';
import { REBUILDS_PREFIX } from '../../pipeline/aws/rebuildControl.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { SEASONS_PREFIX } from '../../stream/archive/seasonIndex.js';
import {
  FUNCTION_SETTINGS,
  type FunctionSettings,
  HandlerFunction,
  type NodeVersion,
} from './HandlerFunction.js';

export interface RebuildJobProps {
  /** Names the state machine and prefixes the generations' tables, e.g. `matchstream-prod`. */
  readonly prefix: string;
  readonly stage: string;
  readonly key: kms.IKey;
  readonly node: NodeVersion;
  readonly events: dynamodb.Table;
  readonly stream: kinesis.IStream;
  readonly streamRetentionHours: number;
  readonly archive: s3.Bucket;
  /** Where the generations' mappings write the batches they give up on. */
  readonly failures: s3.Bucket;
  readonly positions: dynamodb.Table;
  readonly deadLetters: dynamodb.Table;
  readonly registry: dynamodb.Table;
  /**
   * The circuit breakers' shared state (`BREAKERS_TABLE`): the feeder guards its generation's
   * table with a breaker whose state its instances share there. The stack grants the access.
   */
  readonly breakers: dynamodb.Table;
  /** The first generation of each read model (the stack's tables), by read model. */
  readonly readModels: Readonly<Record<string, dynamodb.Table>>;
  /** READ_MODEL_TABLES, as the stack passes it to the functions (a JSON token). */
  readonly readModelTables: string;
  /** Data files applied at once. @default 16 */
  readonly concurrency?: number;
  /** Each generation's mapping, set as the read-models consumer's. */
  readonly feed: FeedSettings;
}

/** How often the run looks at the export, and at the catch-up. */
const POLL = Duration.minutes(1);

/**
 * Rebuilding a read model on AWS: a Step Functions state machine that exports the events
 * table (or reuses the archive's chain with an incremental export), applies the chain's data
 * files to a new generation with a Distributed Map (each iteration one file, by the function
 * that runs `applyExportFile`, called again from where it stopped until the file is done),
 * applies the streams the files deferred, feeds the generation from the change stream from
 * the chain's end (an event source mapping on the generation feeder's alias for it), waits
 * for it to catch up, compares it with the active generation (a Distributed Map over the
 * segments of both tables, each iteration going on until its segment is done), and switches
 * in one registry write. A run that fails switches nothing; it can be redriven (the map runs
 * only the files that failed) or started again (it goes on with the generation it left
 * building).
 */
export class RebuildJob extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly control: nodejs.NodejsFunction;
  readonly files: nodejs.NodejsFunction;
  readonly feeder: nodejs.NodejsFunction;
  /** The ARN pattern of the generations' tables (`<prefix>-rm-*`), for the readers' grants. */
  readonly generationTables: string;

  constructor(scope: Construct, id: string, props: RebuildJobProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const tablePrefix = `${props.prefix}-rm-`;
    const generationTables = Arn.format(
      { service: 'dynamodb', resource: 'table', resourceName: `${tablePrefix}*` },
      stack,
    );
    const base = {
      EVENTS_TABLE: props.events.tableName,
      POSITIONS_TABLE: props.positions.tableName,
      DEAD_LETTERS_TABLE: props.deadLetters.tableName,
      REGISTRY_TABLE: props.registry.tableName,
      READ_MODEL_TABLES: props.readModelTables,
    };

    this.feeder = new HandlerFunction(this, 'Feeder', {
      description: 'the generation feeder (one event source mapping per rebuilt generation)',
      entry: 'generationFeederFunction.ts',
      node: props.node,
      environment: { ...base, BREAKERS_TABLE: props.breakers.tableName },
    }).function;
    this.files = new HandlerFunction(this, 'Files', {
      description: 'the rebuild: one export data file into a new generation',
      entry: 'rebuildFileFunction.ts',
      node: props.node,
      memorySize: 2048,
      timeout: Duration.minutes(15),
      environment: base,
    }).function;
    this.control = new HandlerFunction(this, 'Control', {
      description:
        'the rebuild steps: export, files, feed, catch-up, compare (segment by segment), switch',
      entry: 'rebuildControlFunction.ts',
      node: props.node,
      memorySize: 2048,
      timeout: Duration.minutes(15),
      environment: {
        ...base,
        STAGE: props.stage,
        RM_TABLE_PREFIX: tablePrefix,
        KMS_KEY_ARN: props.key.keyArn,
        ARCHIVE_BUCKET: props.archive.bucketName,
        FEEDER_FUNCTION: this.feeder.functionName,
        STREAM_ARN: props.stream.streamArn,
        STREAM_RETENTION_HOURS: String(props.streamRetentionHours),
        FAILURE_BUCKET_ARN: props.failures.bucketArn,
        FEED_SETTINGS: JSON.stringify(
          Object.fromEntries(Object.entries(props.feed).map(([k, v]) => [k, String(v)])),
        ),
      },
    }).function;

    this.generationTables = generationTables;
    this.grantAccess(props, generationTables);
    this.stateMachine = this.buildStateMachine(props);
  }

  /** Each function exactly what its code calls (see `TABLE_ACCESS` in the stack). */
  private grantAccess(props: RebuildJobProps, generationTables: string): void {
    const { key } = props;
    const allow = (fn: iam.IGrantable, actions: string[], resources: string[]) =>
      fn.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources }),
      );
    const readEvents = ['Query', 'GetItem'];
    const positions = ['BatchGetItem', 'BatchWriteItem'];
    const writeDocuments = ['BatchGetItem', 'Query', 'BatchWriteItem'];
    for (const fn of [this.feeder, this.files, this.control]) {
      allow(fn, readEvents, [props.events.tableArn]);
      allow(fn, positions, [props.positions.tableArn]);
      allow(fn, writeDocuments, [generationTables]);
      key.grantEncryptDecrypt(fn);
    }
    // The control applies the expired seasons' streams: it asks the events table, a hundred
    // keys a request, which of them it still holds a commit of (ArchivedEventStore.readMany).
    allow(this.control, ['BatchGetItem'], [props.events.tableArn]);
    // The feeder finds its generation's table in the registry; the control keeps the registry.
    allow(this.feeder, ['BatchGetItem', 'Query'], [props.registry.tableArn]);
    allow(this.control, ['BatchGetItem', 'Query', 'BatchWriteItem'], [props.registry.tableArn]);
    for (const fn of [this.files, this.control])
      allow(fn, ['PutItem', 'UpdateItem'], [props.deadLetters.tableArn]);
    // The feeder reads the stream through the mappings the rebuilds create, and they write
    // what it gives up on to the failures bucket (as the consumers' mappings do).
    props.stream.grantRead(this.feeder);
    this.feeder.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [props.failures.arnForObjects('aws/lambda/*')],
      }),
    );
    this.feeder.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.failures.bucketArn],
      }),
    );
    // The control reads the archive's exports and the maps' results (the files and the feeder
    // read the archive as every reader of the event store does: the stack grants it).
    this.control.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          props.archive.arnForObjects(`${ARCHIVE_PREFIX}/*`),
          props.archive.arnForObjects(`${SEASONS_PREFIX}/*`),
          props.archive.arnForObjects(`${REBUILDS_PREFIX}/*`),
        ],
      }),
    );
    this.control.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.archive.bucketArn] }),
    );
    // The files keep the streams a file defers under the run's folder, and read them back.
    this.files.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.archive.arnForObjects(`${REBUILDS_PREFIX}/*`)],
      }),
    );
    // The control: the registry, the generations' tables (made, warmed, compared), the live
    // tables (compared), the export, the feeder's aliases and mappings, the catch-up metric.
    const control = this.control;
    allow(
      control,
      [
        'CreateTable',
        'DescribeTable',
        'UpdateContinuousBackups',
        'UpdateTable',
        'TagResource',
        'Scan',
      ],
      [generationTables],
    );
    // The first generations: compared with, and their warm throughput read (DescribeTable).
    allow(
      control,
      ['Scan', 'BatchGetItem', 'DescribeTable'],
      Object.values(props.readModels).map((t) => t.tableArn),
    );
    allow(
      control,
      ['ExportTableToPointInTime', 'DescribeTable', 'DescribeContinuousBackups'],
      [props.events.tableArn],
    );
    allow(control, ['DescribeExport'], [`${props.events.tableArn}/export/*`]);
    control.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [
          props.archive.arnForObjects(`${ARCHIVE_PREFIX}/*`),
          props.archive.arnForObjects(`${REBUILDS_PREFIX}/*`),
        ],
      }),
    );
    // A table encrypted with the stack's key: DynamoDB uses the key through grants it makes
    // with the caller's permission (the Developer Guide's key policy for customer managed keys).
    control.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant', 'kms:DescribeKey'],
        resources: [props.key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
    control.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetAlias', 'lambda:CreateAlias'],
        resources: [this.feeder.functionArn, `${this.feeder.functionArn}:*`],
      }),
    );
    control.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:CreateEventSourceMapping'],
        resources: ['*'],
        conditions: { StringLike: { 'lambda:FunctionArn': `${this.feeder.functionArn}:*` } },
      }),
    );
    control.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:ListEventSourceMappings', 'lambda:GetEventSourceMapping'],
        resources: ['*'],
      }),
    );
    control.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    const findings = {
      tables: [
        `Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${props.prefix}-rm-*`,
        'The generations a rebuild makes are tables it names at run time, all under this prefix of the stack.',
      ],
      exports: [
        `Resource::<${this.id(props.archive)}.Arn>/${ARCHIVE_PREFIX}/*`,
        'The archive: DynamoDB names the objects of each export under this prefix of the archive bucket.',
      ],
      seasons: [
        `Resource::<${this.id(props.archive)}.Arn>/${SEASONS_PREFIX}/*`,
        "The expired seasons' indexes, one object per season under this prefix of the archive bucket.",
      ],
      runs: [
        `Resource::<${this.id(props.archive)}.Arn>/${REBUILDS_PREFIX}/*`,
        "The runs' lists of data files and of deferred streams, and the maps' results, named per run under this prefix of the archive bucket.",
      ],
      describeExport: [
        `Resource::<${this.id(props.events)}.Arn>/export/*`,
        "DescribeExport applies to the events table's exports, which DynamoDB names when it starts them.",
      ],
      onFailure: [
        `Resource::<${this.id(props.failures)}.Arn>/aws/lambda/*`,
        'Lambda names each on-failure object itself (aws/lambda/<mapping>/<shard>/...): the role may put objects under that prefix only.',
      ],
      aliases: [
        `Resource::<${this.id(this.feeder)}.Arn>:*`,
        "The feeder's aliases, one per rebuilt generation, named at run time (<read model>-g<n>); nothing else of other functions.",
      ],
      any: [
        'Resource::*',
        "CreateEventSourceMapping (conditioned on the feeder's ARN), ListEventSourceMappings, GetEventSourceMapping and GetMetricData name no resource known before a rebuild runs.",
      ],
    } as const;
    type Finding = keyof typeof findings;
    const acknowledge = (fn: nodejs.NodejsFunction, which: readonly Finding[]) => {
      if (!fn.role) return;
      for (const name of which) {
        const [finding, reason] = findings[name];
        Validations.of(fn.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
      }
    };
    // (The key grant's wildcard actions are acknowledged by HandlerFunction for every role.)
    acknowledge(this.feeder, ['tables', 'onFailure']);
    acknowledge(this.files, ['tables', 'runs']);
    acknowledge(this.control, [
      'tables',
      'exports',
      'seasons',
      'runs',
      'describeExport',
      'aliases',
      'any',
    ]);
  }

  /** The logical id of a resource's CloudFormation element, as cdk-nag names it in findings. */
  private id(construct: Construct): string {
    return Stack.of(this).getLogicalId(construct.node.defaultChild as CfnElement);
  }

  private buildStateMachine(props: RebuildJobProps): sfn.StateMachine {
    const step = (action: RebuildAction, label: string) =>
      new tasks.LambdaInvoke(this, label, {
        lambdaFunction: this.control,
        // The run so far, and the execution's name (which names the run's lists in the bucket).
        payload: sfn.TaskInput.fromObject({
          action,
          'run.$': '$',
          'execution.$': '$$.Execution.Name',
        }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
    const prepare = step('prepare', 'Prepare');
    const exportStatus = step('exportStatus', 'ExportStatus');
    const listFiles = step('listFiles', 'ListFiles');
    const deferred = step('deferred', 'ApplyDeferredStreams');
    const feed = step('feed', 'Feed');
    const catchUp = step('catchUp', 'CatchUp');
    const verify = step('verify', 'Verify');
    const finish = step('finish', 'Switch');
    // Throttled or briefly failing AWS calls are worth one more try: every step can be run again.
    for (const task of [prepare, exportStatus, listFiles, deferred, feed, catchUp, verify, finish])
      task.addRetry({
        errors: ['States.TaskFailed'],
        interval: Duration.seconds(20),
        maxAttempts: 2,
        backoffRate: 2,
      });

    /**
     * A Distributed Map over a list the control step wrote to the bucket (at `list` in the
     * run), its results written back under `results`; each iteration calls `fn` with the item,
     * then again with what it returned until that says `done` (a call stops before the
     * function's time runs out and says where it got to), a call tried twice more if it fails.
     */
    const loopingMap = (o: {
      readonly id: string;
      readonly call: string;
      readonly done: string;
      readonly finished: string;
      readonly fn: nodejs.NodejsFunction;
      readonly payload?: sfn.TaskInput;
      readonly list: string;
      readonly results: string;
      readonly resultPath: string;
    }) => {
      const call = new tasks.LambdaInvoke(this, o.call, {
        lambdaFunction: o.fn,
        ...(o.payload ? { payload: o.payload } : {}),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
      call.addRetry({
        errors: ['States.TaskFailed'],
        interval: Duration.seconds(10),
        maxAttempts: 2,
        backoffRate: 2,
      });
      const map = new sfn.DistributedMap(this, o.id, {
        itemReader: new sfn.S3JsonItemReader({
          bucket: props.archive as s3.IBucket,
          key: sfn.JsonPath.stringAt(o.list),
        }),
        maxConcurrency: props.concurrency ?? 16,
        toleratedFailurePercentage: 0,
        resultWriterV2: new sfn.ResultWriterV2({
          bucket: props.archive as s3.IBucket,
          prefix: `${REBUILDS_PREFIX}/${o.results}`,
        }),
        resultPath: o.resultPath,
        mapExecutionType: sfn.StateMachineType.STANDARD,
      });
      const finished = new sfn.Succeed(this, o.finished);
      map.itemProcessor(
        call.next(
          new sfn.Choice(this, o.done)
            .when(sfn.Condition.booleanEquals('$.done', true), finished)
            .otherwise(call),
        ),
      );
      return map;
    };
    // Each export's data files, a file an iteration (`applyExportFile`, in parts).
    const map = loopingMap({
      id: 'ApplyFiles',
      call: 'ApplyFile',
      done: 'FileDone?',
      finished: 'FileApplied',
      fn: this.files,
      list: '$.files.key',
      results: 'results',
      resultPath: '$.applied',
    });
    // The comparison: each pass a list of segments' work the verify step writes, a segment
    // an iteration (`compareSegment`, in parts).
    const compareMap = loopingMap({
      id: 'CompareSegments',
      call: 'CompareSegment',
      done: 'SegmentDone?',
      finished: 'SegmentCompared',
      fn: this.control,
      payload: sfn.TaskInput.fromObject({ action: 'compareSegment', 'segment.$': '$' }),
      list: '$.comparison.key',
      results: 'compared',
      resultPath: '$.compared',
    });
    const compareMore = new sfn.Choice(this, 'CompareMore?');

    const exportDone = new sfn.Choice(this, 'ExportDone?');
    const waitExport = new sfn.Wait(this, 'WaitForExport', { time: sfn.WaitTime.duration(POLL) });
    const moreExports = new sfn.Choice(this, 'MoreExports?');
    // The deferred streams, applied in parts: the step is called again until it says done.
    const deferredDone = new sfn.Choice(this, 'DeferredDone?');
    const caughtUp = new sfn.Choice(this, 'CaughtUp?');
    const waitCatchUp = new sfn.Wait(this, 'WaitForCatchUp', {
      time: sfn.WaitTime.duration(POLL),
    });
    const done = new sfn.Succeed(this, 'Done', { outputPath: '$.summary' });

    const definition = sfn.Chain.start(prepare).next(
      exportDone
        .when(
          sfn.Condition.booleanEquals('$.export.done', true),
          listFiles.next(
            map
              .next(deferred)
              .next(
                deferredDone
                  .when(sfn.Condition.booleanEquals('$.deferring.done', false), deferred)
                  .otherwise(
                    moreExports
                      .when(sfn.Condition.booleanEquals('$.files.more', true), map)
                      .otherwise(
                        feed.next(
                          waitCatchUp.next(
                            catchUp.next(
                              caughtUp
                                .when(
                                  sfn.Condition.booleanEquals('$.feed.caught_up', true),
                                  verify.next(
                                    compareMore
                                      .when(
                                        sfn.Condition.booleanEquals('$.comparison.pending', true),
                                        compareMap.next(verify),
                                      )
                                      .otherwise(finish.next(done)),
                                  ),
                                )
                                .otherwise(waitCatchUp),
                            ),
                          ),
                        ),
                      ),
                  ),
              ),
          ),
        )
        .otherwise(waitExport.next(exportStatus).next(exportDone)),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const shared = (this.node.tryGetContext(FUNCTION_SETTINGS) ?? {}) as FunctionSettings;
    const machine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.prefix}-rebuild`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.days(2),
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: shared.tracing ?? false,
    });
    props.key.grantEncryptDecrypt(machine);
    const acknowledge = (id: string, reason: string) =>
      Validations.of(machine).acknowledge({ id, reason });
    if (!shared.tracing) {
      const reason =
        'X-Ray tracing is switched by context ("tracing": true) and off by default, as for the functions.';
      acknowledge('AwsSolutions-SF2', reason);
      acknowledge('Serverless::Serverless-StepFunctionStateMachineXray', reason);
    }
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${this.id(machine)}"}]}]}`;
    const findings: Record<string, string> = {
      [`Resource::${executions}:*`]:
        "The Distributed Map's child executions, which Step Functions names at run time (written by the CDK).",
      [`Resource::${executions}/*:*`]:
        'Redriving the map run of a failed execution (written by the CDK).',
      [`Resource::<${this.id(this.control)}.Arn>:*`]:
        'Invoking the function and its versions (written by the CDK for a Lambda task).',
      [`Resource::<${this.id(this.files)}.Arn>:*`]:
        'Invoking the function and its versions (written by the CDK for a Lambda task).',
      [`Resource::arn:<AWS::Partition>:s3:::<${this.id(props.archive)}>/*`]:
        "The map reads each run's list of files and writes its results, both named at run time (written by the CDK for the item reader and the result writer).",
      'Resource::*':
        'Log delivery to the log group (logs:CreateLogDelivery and the like), which applies to no resource (written by the CDK for state machine logging).',
      'Action::kms:ReEncrypt*':
        'Written by the KMS key grant (grantEncryptDecrypt); the one key of the stack.',
      'Action::kms:GenerateDataKey*':
        'Written by the KMS key grant (grantEncryptDecrypt); the one key of the stack.',
    };
    for (const [finding, reason] of Object.entries(findings))
      acknowledge(`AwsSolutions-IAM5[${finding}]`, reason);
    return machine;
  }
}
