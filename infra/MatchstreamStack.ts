import {
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DEAD_LETTER_SOURCES_OUTPUT,
  type DeadLetterSources,
} from '../pipeline/aws/deadLetterSources.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import {
  BUS_HANDLER_NAMES,
  BUS_HANDLERS,
  type BusHandlerName,
} from '../sagas/handlers/busHandlers.js';
import { SAGA_STREAM_PREFIX } from '../sagas/SagaCoordinator.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { ARCHIVE_PREFIX } from '../stream/archive/exportFormat.js';
import { SEASONS_PREFIX } from '../stream/archive/seasonIndex.js';
import { INVOCATION_RECORDS_PREFIX } from '../stream/aws/s3InvocationRecords.js';
import { changesOfStreamsStartingWith } from '../stream/changes/ChangeRecord.js';
import { ArchiveBucket } from './constructs/ArchiveBucket.js';
import { BusHandler } from './constructs/BusHandler.js';
import { DocumentTables } from './constructs/DocumentTables.js';
import { DomainBuses } from './constructs/DomainBuses.js';
import { EventStore } from './constructs/EventStore.js';
import { FailureBucket } from './constructs/FailureBucket.js';
import { GlueSchemas } from './constructs/GlueSchemas.js';
import {
  FUNCTION_SETTINGS,
  type FunctionSettings,
  type NodeVersion,
} from './constructs/HandlerFunction.js';
import { Monitoring } from './constructs/Monitoring.js';
import { QueryApi } from './constructs/QueryApi.js';
import { RebuildJob } from './constructs/RebuildJob.js';
import { SagaSweep } from './constructs/SagaSweep.js';
import { ScheduledFunction } from './constructs/ScheduledFunction.js';
import { type ConsumerSettings, StreamConsumer } from './constructs/StreamConsumer.js';

/**
 * The DynamoDB actions of each way the functions use a table, from the calls the code makes:
 * `DynamoEventStore` appends with a conditional PutItem (an append-only store: no UpdateItem,
 * DeleteItem or BatchWriteItem on events) and reads with Query and GetItem;
 * `DynamoDocumentStore` reads with BatchGetItem and Query and writes with BatchWriteItem;
 * `DynamoPositionStore` reads and writes in batches; `DynamoDeadLetterQueue` puts a letter and
 * lists them with Scan (all) or Query (one consumer); the sweep's lease is put conditionally
 * and deleted.
 */
export const TABLE_ACCESS = {
  readEvents: ['Query', 'GetItem'],
  appendEvents: ['PutItem', 'Query', 'GetItem'],
  readDocuments: ['BatchGetItem', 'Query'],
  writeDocuments: ['BatchGetItem', 'Query', 'BatchWriteItem'],
  positions: ['BatchGetItem', 'BatchWriteItem'],
  sendDeadLetters: ['PutItem', 'UpdateItem'],
  listDeadLetters: ['Scan', 'Query'],
  lease: ['PutItem', 'DeleteItem'],
  /** A circuit breaker's shared state: read at most every second, written at each transition. */
  breakers: ['GetItem', 'PutItem'],
  listBreakers: ['Scan'],
  superviseBreakers: ['Scan', 'GetItem', 'PutItem', 'DeleteItem'],
  /** The table's item count and size (`GET /store`). */
  describe: ['DescribeTable'],
} as const;
export type TableAccess = keyof typeof TABLE_ACCESS;
const WRITE_ACTIONS: ReadonlySet<string> = new Set([
  'PutItem',
  'BatchWriteItem',
  'DeleteItem',
  'UpdateItem',
]);

/** The knobs of a deployment (from CDK context; see `settingsFromContext`). */
export interface MatchstreamSettings {
  /** Names the deployment: resources are called `matchstream-<stage>-...`. */
  readonly stage: string;
  /** Provisioned shards of the change stream; 0 for on-demand. */
  readonly shards: number;
  /** Hours the change stream keeps records (24–8760). */
  readonly retentionHours: number;
  /** Keep the event store when the stack is deleted (and protect it from deletion). */
  readonly retainEvents: boolean;
  /** The Node.js version of the functions (22 or 24). */
  readonly node: NodeVersion;
  /** X-Ray active tracing of every function. */
  readonly tracing: boolean;
  /** Ship source maps with the bundles and run with `--enable-source-maps`. */
  readonly sourceMaps: boolean;
  /** Warm throughput of the events and read-model tables (high-volume deployments); none when null. */
  readonly warmThroughput: {
    readonly readUnitsPerSecond?: number;
    readonly writeUnitsPerSecond?: number;
  } | null;
  /** Settings per consumer, by consumer name (`read-models`, `bus-router`, `sagas`). */
  readonly consumers: Readonly<Record<string, ConsumerSettings>>;
  /**
   * Automatic recalculations: profile, division (null: every game), debounce, and how long
   * after its first request one may wait while results keep arriving.
   */
  readonly rpi: {
    readonly profile: string;
    readonly division: string | null;
    readonly debounceMs: number;
    readonly debounceMaxMs: number;
  };
  /** How often the saga sweep runs (minutes). */
  readonly sagaSweepMinutes: number;
  /** The most instances each bus handler's queue mapping runs at once (2–1000). */
  readonly handlerConcurrency: number;
  /** Throttling of the query API (requests per second, burst). */
  readonly api: { readonly rateLimit: number; readonly burstLimit: number };
  /** When the event archive's exports move to cheaper storage (days after they are written). */
  readonly archive: { readonly infrequentAfterDays: number; readonly glacierAfterDays: number };
  /** Rebuilds on AWS: data files applied at once by the Distributed Map. */
  readonly rebuild: { readonly concurrency: number };
}

export interface MatchstreamStackProps extends StackProps {
  readonly settings: MatchstreamSettings;
}

/**
 * matchstream on AWS: the event store and its change stream, the consumers that build the read
 * models and route events onto the domain buses, the buses with their archives, the event
 * schemas in the Glue Schema Registry.
 */
export class MatchstreamStack extends Stack {
  readonly key: kms.Key;
  readonly eventStore: EventStore;
  readonly buses: DomainBuses;
  readonly readModels: DocumentTables;
  readonly runtimeTables: DocumentTables;
  readonly schemas: GlueSchemas;
  readonly monitoring: Monitoring;
  readonly sagaTables: DocumentTables;
  readonly consumers: Readonly<Record<'read-models' | 'bus-router' | 'sagas', StreamConsumer>>;
  readonly handlers: Readonly<Record<BusHandlerName, BusHandler>>;
  readonly sweep: SagaSweep;
  /** Pauses the bus handlers whose circuit breakers are open. */
  readonly supervisor: ScheduledFunction;
  readonly api: QueryApi;
  /** Where the consumers' mappings write the batches they give up on. */
  readonly failures: FailureBucket;
  /** The event archive: exports of the events table (`matchstream archive export --aws`). */
  readonly archive: ArchiveBucket;
  /** Rebuilds of a read model from the archive (`matchstream rebuild --aws`). */
  readonly rebuild: RebuildJob;

  constructor(scope: Construct, id: string, props: MatchstreamStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const prefix = `matchstream-${settings.stage}`;
    // Read by every function of the stack (set before any is made).
    this.node.setContext(FUNCTION_SETTINGS, {
      tracing: settings.tracing,
      sourceMaps: settings.sourceMaps,
    } satisfies FunctionSettings);
    const warm = settings.warmThroughput ? { warmThroughput: settings.warmThroughput } : {};

    this.key = new kms.Key(this, 'Key', {
      description: `${prefix}: events, change stream, read models, queues`,
      enableKeyRotation: true,
    });
    this.eventStore = new EventStore(this, 'EventStore', {
      key: this.key,
      shards: settings.shards,
      retention: Duration.hours(settings.retentionHours),
      retain: settings.retainEvents,
      ...warm,
    });
    this.buses = new DomainBuses(this, 'Buses', { prefix });
    this.schemas = new GlueSchemas(this, 'Schemas', {
      name: prefix,
      schemas: SchemaRegistry.fromDirectory(),
    });
    this.readModels = new DocumentTables(this, 'ReadModels', {
      key: this.key,
      ...warm,
      tables: Object.fromEntries(
        READ_MODELS.map((p) => [p.name, { partitionKey: 'pk', sortKey: 'sk' }]),
      ),
    });
    this.runtimeTables = new DocumentTables(this, 'Runtime', {
      key: this.key,
      tables: {
        positions: { partitionKey: 'consumer', sortKey: 'aggregate_id' },
        deadLetters: { partitionKey: 'consumer', sortKey: 'id', timeToLiveAttribute: 'expires_at' },
        registry: { partitionKey: 'pk', sortKey: 'sk' },
        breakers: { partitionKey: 'breaker', timeToLiveAttribute: 'expires_at' },
      },
    });
    const runtime = this.runtimeTables.tables;
    const positions = runtime.positions;
    const deadLetters = runtime.deadLetters;
    const registry = runtime.registry;
    const breakers = runtime.breakers;
    if (!positions || !deadLetters || !registry || !breakers)
      throw new Error('runtime tables missing');
    const common = {
      EVENTS_TABLE: this.eventStore.table.tableName,
      POSITIONS_TABLE: positions.tableName,
      DEAD_LETTERS_TABLE: deadLetters.tableName,
      BREAKERS_TABLE: breakers.tableName,
    };

    this.sagaTables = new DocumentTables(this, 'SagaTables', {
      key: this.key,
      tables: {
        work: { partitionKey: 'pk', sortKey: 'sk', timeToLiveAttribute: 'expires_at' },
        directory: { partitionKey: 'pk', sortKey: 'sk' },
        cache: { partitionKey: 'pk', sortKey: 'sk' },
        notifications: { partitionKey: 'pk', sortKey: 'sk', timeToLiveAttribute: 'expires_at' },
      },
    });
    const saga = this.sagaTables.tables;
    const table = (name: string) => {
      const t = saga[name] ?? this.readModels.tables[name];
      if (!t) throw new Error(`no table ${name}`);
      return t;
    };
    const readModelTables = this.toJsonString(
      Object.fromEntries(
        Object.entries(this.readModels.tables).map(([name, t]) => [name, t.tableName]),
      ),
    );
    const sagaEnv = {
      EVENTS_TABLE: this.eventStore.table.tableName,
      DEAD_LETTERS_TABLE: deadLetters.tableName,
      BREAKERS_TABLE: breakers.tableName,
      READ_MODEL_TABLES: readModelTables,
      REGISTRY_TABLE: registry.tableName,
      SAGA_TABLES: this.toJsonString(
        Object.fromEntries(Object.entries(saga).map(([name, t]) => [name, t.tableName])),
      ),
      RPI_PROFILE: settings.rpi.profile,
      ...(settings.rpi.division ? { RPI_DIVISION: settings.rpi.division } : {}),
      DEBOUNCE_MS: String(settings.rpi.debounceMs),
      DEBOUNCE_MAX_MS: String(settings.rpi.debounceMaxMs),
    };

    this.failures = new FailureBucket(this, 'Failures', { key: this.key });
    this.archive = new ArchiveBucket(this, 'Archive', { key: this.key, ...settings.archive });
    const readModels = new StreamConsumer(this, 'ReadModelsConsumer', {
      ...settings.consumers['read-models'],
      consumer: 'read-models',
      node: settings.node,
      entry: 'readModelsFunction.ts',
      stream: this.eventStore.stream,
      onFailure: this.failures.bucket,
      key: this.key,
      environment: { ...common, READ_MODEL_TABLES: readModelTables },
    });
    const busRouter = new StreamConsumer(this, 'BusRouterConsumer', {
      ...settings.consumers['bus-router'],
      consumer: 'bus-router',
      node: settings.node,
      entry: 'busRouterFunction.ts',
      stream: this.eventStore.stream,
      onFailure: this.failures.bucket,
      key: this.key,
      environment: {
        ...common,
        BUS_NAMES: this.toJsonString(this.buses.names()),
      },
    });
    // Runs the saga steps: long enough for the slowest step, its grace, and a short wait.
    // Invoked for the sagas' own streams only: Lambda's filter holds back every other change
    // record (results, registrations, calculations), which the function would read and skip.
    const sagas = new StreamConsumer(this, 'SagasConsumer', {
      batchSize: 100,
      ...settings.consumers.sagas,
      filters: [changesOfStreamsStartingWith(SAGA_STREAM_PREFIX)],
      consumer: 'sagas',
      node: settings.node,
      entry: 'sagasFunction.ts',
      stream: this.eventStore.stream,
      onFailure: this.failures.bucket,
      key: this.key,
      timeout: Duration.minutes(5),
      environment: { ...common, ...sagaEnv },
    });
    this.consumers = { 'read-models': readModels, 'bus-router': busRouter, sagas };

    // Rebuilds: new generations of a read model, built from the archive and switched to.
    const readModelDefaults = settings.consumers['read-models'] ?? {};
    this.rebuild = new RebuildJob(this, 'Rebuild', {
      prefix,
      stage: settings.stage,
      key: this.key,
      node: settings.node,
      events: this.eventStore.table,
      stream: this.eventStore.stream,
      streamRetentionHours: settings.retentionHours,
      archive: this.archive.bucket,
      failures: this.failures.bucket,
      positions,
      deadLetters,
      registry,
      breakers,
      readModels: this.readModels.tables,
      readModelTables,
      concurrency: settings.rebuild.concurrency,
      feed: {
        batchSize: readModelDefaults.batchSize ?? 500,
        batchingWindowSeconds: readModelDefaults.batchingWindow?.toSeconds() ?? 1,
        parallelizationFactor: readModelDefaults.parallelizationFactor ?? 2,
        retryAttempts: readModelDefaults.retryAttempts ?? 5,
        maxRecordAgeSeconds: readModelDefaults.maxRecordAge?.toSeconds() ?? 86_400,
      },
    });

    // Least privilege: each consumer reads the events (and fills gaps from them), keeps its
    // positions, and writes only its own effects.
    for (const consumer of [readModels, busRouter, sagas]) {
      this.allow(consumer.function, this.eventStore.table, 'readEvents');
      this.allow(consumer.function, positions, 'positions');
    }
    for (const t of Object.values(this.readModels.tables))
      this.allow(readModels.function, t, 'writeDocuments');
    for (const bus of Object.values(this.buses.buses)) bus.grantPutEventsTo(busRouter.function);
    this.allow(busRouter.function, deadLetters, 'sendDeadLetters');

    // The saga steps append saga and calculation events, read the matches, the directory and
    // the saga states, and keep their snapshots and the rankings cache.
    this.sweep = new SagaSweep(this, 'SagaSweep', {
      name: `${prefix}-saga-sweep`,
      every: Duration.minutes(settings.sagaSweepMinutes),
      key: this.key,
      node: settings.node,
      environment: sagaEnv,
    });
    for (const fn of [sagas.function, this.sweep.function]) {
      this.allow(fn, this.eventStore.table, 'appendEvents');
      for (const name of ['matches', 'sagas', 'directory'])
        this.allow(fn, table(name), 'readDocuments');
      for (const name of ['work', 'cache']) this.allow(fn, table(name), 'writeDocuments');
    }
    // The sweep's lease: one item in the work table, put conditionally and deleted.
    this.allow(this.sweep.function, table('work'), 'lease');

    // The bus handlers (BUS_HANDLERS), each the target of its rule on its bus.
    const handler = (name: BusHandlerName) =>
      new BusHandler(this, `${name[0]?.toUpperCase()}${name.slice(1)}EventHandler`, {
        name: BUS_HANDLERS[name].rule,
        handler: name,
        bus: this.buses.buses[BUS_HANDLERS[name].bus],
        pattern: BUS_HANDLERS[name].pattern,
        key: this.key,
        node: settings.node,
        environment: sagaEnv,
        maxConcurrency: settings.handlerConcurrency,
      });
    this.handlers = {
      match: handler('match'),
      metadata: handler('metadata'),
      calculation: handler('calculation'),
    };
    // Match: finds the season in the store, starts debounced sagas (appends), keeps its slots,
    // and reads whether the matches read model shows a change yet.
    this.allow(this.handlers.match.function, this.eventStore.table, 'appendEvents');
    this.allow(this.handlers.match.function, table('work'), 'writeDocuments');
    this.allow(this.handlers.match.function, table('matches'), 'readDocuments');
    // Metadata: keeps the directory, reads the cached seasons, starts sagas like match.
    this.allow(this.handlers.metadata.function, this.eventStore.table, 'appendEvents');
    this.allow(this.handlers.metadata.function, table('directory'), 'writeDocuments');
    this.allow(this.handlers.metadata.function, table('work'), 'writeDocuments');
    this.allow(this.handlers.metadata.function, table('cache'), 'readDocuments');
    // Calculation: reads the calculations, writes the notifications.
    this.allow(this.handlers.calculation.function, this.eventStore.table, 'readEvents');
    this.allow(this.handlers.calculation.function, table('notifications'), 'writeDocuments');

    // The breaker supervisor pauses a bus handler's mapping while its breakers are open.
    this.supervisor = new ScheduledFunction(this, 'BreakerSupervisor', {
      name: `${prefix}-breaker-supervisor`,
      description: 'the breaker supervisor',
      does: 'pauses the bus handlers whose circuit breakers are open, and resumes them',
      entry: 'breakerSupervisorFunction.ts',
      timeout: Duration.minutes(1),
      key: this.key,
      node: settings.node,
      environment: {
        BREAKERS_TABLE: breakers.tableName,
        HANDLER_MAPPINGS: this.toJsonString(
          Object.fromEntries(
            BUS_HANDLER_NAMES.map((n) => [BUS_HANDLERS[n].rule, this.handlers[n].mappingId]),
          ),
        ),
      },
    });
    this.allow(this.supervisor.function, breakers, 'superviseBreakers');
    this.supervisor.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
        resources: BUS_HANDLER_NAMES.map((n) =>
          this.formatArn({
            service: 'lambda',
            resource: 'event-source-mapping',
            resourceName: this.handlers[n].mappingId,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );

    this.api = new QueryApi(this, 'QueryApi', {
      name: prefix,
      node: settings.node,
      rateLimit: settings.api.rateLimit,
      burstLimit: settings.api.burstLimit,
      environment: sagaEnv,
    });
    // Reads every read model, the cache and notifications; POST /sagas appends SagaStarted
    // (never updates, deletes or batch-writes events), a saga's timeline reads its stream and
    // GET /store the events table's size; GET /health lists the dead letters.
    for (const t of Object.values(this.readModels.tables))
      this.allow(this.api.function, t, 'readDocuments');
    for (const name of ['cache', 'notifications'])
      this.allow(this.api.function, table(name), 'readDocuments');
    this.allow(this.api.function, this.eventStore.table, 'appendEvents');
    this.allow(this.api.function, this.eventStore.table, 'describe');
    // GET /consumers reads the consumers' own metrics (at most once a minute per instance).
    this.api.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    if (this.api.function.role)
      Validations.of(this.api.function.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "cloudwatch:GetMetricData supports no resource-level permissions (Service Authorization Reference); the API reads the consumers' metrics with it, nothing else.",
      });
    this.allow(this.api.function, deadLetters, 'listDeadLetters');
    this.readFailures(this.api.function, [
      ...BUS_HANDLER_NAMES.map((n) => this.handlers[n].deadLetters),
      this.sweep.deadLetters,
      this.supervisor.deadLetters,
    ]);
    this.allow(this.api.function, breakers, 'listBreakers');
    // The circuit breakers' state, shared by the instances of each function that guards a
    // dependency with one.
    for (const fn of [
      ...Object.values(this.consumers).map((c) => c.function),
      this.sweep.function,
      ...Object.values(this.handlers).map((h) => h.function),
      this.rebuild.feeder,
    ])
      this.allow(fn, breakers, 'breakers');

    // Every reader of the event store reads the expired seasons' streams from the archive.
    for (const fn of [
      ...Object.values(this.consumers).map((c) => c.function),
      this.sweep.function,
      ...Object.values(this.handlers).map((h) => h.function),
      this.api.function,
      this.rebuild.files,
      this.rebuild.feeder,
    ])
      this.readArchive(fn);

    // Whatever reads a read model reads its active generation: the registry says which, and a
    // rebuilt generation is a table under the stack's prefix.
    for (const fn of [
      sagas.function,
      this.sweep.function,
      this.handlers.match.function,
      this.api.function,
    ]) {
      this.allow(fn, registry, 'readDocuments');
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: TABLE_ACCESS.readDocuments.map((a) => `dynamodb:${a}`),
          resources: [this.rebuild.generationTables],
        }),
      );
      if (fn.role)
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${prefix}-rm-*]`,
          reason:
            'The generations a rebuild makes are tables named at run time, all under this prefix of the stack; read only.',
        });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: prefix,
      key: this.key,
      consumers: this.consumers,
      publisher: 'bus-router',
      handlers: {
        ...Object.fromEntries(
          BUS_HANDLER_NAMES.map((n) => [
            BUS_HANDLERS[n].rule,
            {
              function: this.handlers[n].function,
              deadLetters: this.handlers[n].deadLetters,
              rule: {
                ruleName: this.handlers[n].rule.ruleName,
                eventBusName: this.buses.buses[BUS_HANDLERS[n].bus].eventBusName,
              },
              breakers: true,
              inbox: this.handlers[n].inbox,
            },
          ]),
        ),
        'saga-sweep': {
          function: this.sweep.function,
          deadLetters: this.sweep.deadLetters,
          rule: { ruleName: this.sweep.rule.ruleName },
        },
        'breaker-supervisor': {
          function: this.supervisor.function,
          deadLetters: this.supervisor.deadLetters,
          rule: { ruleName: this.supervisor.rule.ruleName },
        },
      },
      sagas: 'sagas',
      api: {
        serverErrors: this.api.api.metricServerError({ period: Duration.minutes(5) }),
        latency: this.api.api.metricLatency({ statistic: 'p99', period: Duration.minutes(5) }),
        function: this.api.function,
      },
      failures: this.failures.bucket,
      rebuild: { stateMachine: this.rebuild.stateMachine, feeder: this.rebuild.feeder },
      eventsTable: this.eventStore.table,
      tables: {
        events: this.eventStore.table,
        ...this.readModels.tables,
        ...this.runtimeTables.tables,
        ...this.sagaTables.tables,
      },
    });
    new CfnOutput(this, 'EventsTable', {
      value: this.eventStore.table.tableName,
      description: 'the event store (matchstream ingest --aws --table <this>)',
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'the query API' });
    new CfnOutput(this, 'FailureBucket', {
      value: this.failures.bucket.bucketName,
      description:
        'what the consumers gave up on (matchstream inspect --failures --aws --bucket <this>)',
    });
    new CfnOutput(this, 'ArchiveBucket', {
      value: this.archive.bucket.bucketName,
      description: 'the event archive (matchstream archive export --aws --bucket <this>)',
    });
    new CfnOutput(this, 'ArchiveKey', {
      value: this.key.keyArn,
      description:
        'the key the archive is encrypted with (matchstream archive export --kms-key <this>)',
    });
    new CfnOutput(this, 'RebuildStateMachine', {
      value: this.rebuild.stateMachine.stateMachineArn,
      description:
        'rebuilds a read model from the archive (matchstream rebuild --aws --state-machine <this>)',
    });
    new CfnOutput(this, 'RegistryTable', {
      value: registry.tableName,
      description:
        'which generation of each read model is active (matchstream projections list --aws --registry-table <this>)',
    });
    new CfnOutput(this, 'GenerationFeeder', {
      value: this.rebuild.feeder.functionName,
      description:
        'feeds the generations rebuilds make (matchstream projections drop --aws --feeder <this>)',
    });
    const sources: DeadLetterSources = {
      eventsTable: this.eventStore.table.tableName,
      failureBucket: this.failures.bucket.bucketName,
      deadLettersTable: deadLetters.tableName,
      consumers: Object.fromEntries(
        Object.entries(this.consumers).map(([name, c]) => [name, c.function.functionName]),
      ),
      handlers: Object.fromEntries(
        BUS_HANDLER_NAMES.map((n) => [
          BUS_HANDLERS[n].rule,
          {
            function: this.handlers[n].function.functionName,
            deadLetters: this.handlers[n].deadLetters.queueUrl,
          },
        ]),
      ),
      otherQueues: {
        'saga-sweep': this.sweep.deadLetters.queueUrl,
        'breaker-supervisor': this.supervisor.deadLetters.queueUrl,
      },
    };
    new CfnOutput(this, DEAD_LETTER_SOURCES_OUTPUT, {
      value: this.toJsonString(sources),
      description: 'where failures are kept (matchstream dead-letters list --aws --stack <stack>)',
    });
    new CfnOutput(this, 'AlarmTopic', {
      value: this.monitoring.topic.topicArn,
      description: 'subscribe to be told of alarms',
    });
  }

  /**
   * Lets the API function list the stack's failures without taking any (`GET /dead-letters`):
   * `STACK_NAME`, whose `DeadLetterSources` output names the places; the on-failure bucket's
   * invocation records (list, read, decrypt); each dead-letter queue's attributes, not its
   * messages.
   */
  private readFailures(fn: nodejs.NodejsFunction, queues: readonly sqs.IQueue[]): void {
    const bucket = this.failures.bucket;
    fn.addEnvironment('STACK_NAME', this.stackName);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:DescribeStacks'],
        resources: [this.stackId],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${INVOCATION_RECORDS_PREFIX}*`)],
      }),
    );
    this.key.grantDecrypt(fn);
    for (const queue of queues) queue.grant(fn, 'sqs:GetQueueAttributes');
    const id = this.getLogicalId(bucket.node.defaultChild as CfnElement);
    if (fn.role)
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${id}.Arn>/${INVOCATION_RECORDS_PREFIX}*]`,
        reason:
          "Listing the stack's failures: the invocation records Lambda writes under this prefix of the on-failure bucket, which Lambda names; read only.",
      });
  }

  /**
   * Lets a function read the expired seasons' streams from the archive (`deployedEventStore`):
   * `ARCHIVE_BUCKET`, the season indexes and the export data files they point into.
   */
  private readArchive(fn: nodejs.NodejsFunction): void {
    const bucket = this.archive.bucket;
    fn.addEnvironment('ARCHIVE_BUCKET', bucket.bucketName);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          bucket.arnForObjects(`${ARCHIVE_PREFIX}/*`),
          bucket.arnForObjects(`${SEASONS_PREFIX}/*`),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    this.key.grantDecrypt(fn);
    const id = this.getLogicalId(bucket.node.defaultChild as CfnElement);
    if (fn.role)
      for (const [prefix, what] of [
        [ARCHIVE_PREFIX, 'the objects of each export, which DynamoDB names'],
        [SEASONS_PREFIX, 'the index of each expired season'],
      ] as const)
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${id}.Arn>/${prefix}/*]`,
          reason: `Reading the expired seasons' streams from the archive: ${what}, under this prefix of the archive bucket; read only.`,
        });
  }

  /**
   * Grants a function exactly the DynamoDB actions its code calls on a table (`TABLE_ACCESS`),
   * and the key: decrypt to read, encrypt too to write.
   */
  private allow(fn: iam.IGrantable, table: dynamodb.Table, access: TableAccess): void {
    const actions = TABLE_ACCESS[access];
    table.grant(fn, ...actions.map((a) => `dynamodb:${a}`));
    if (actions.some((a) => WRITE_ACTIONS.has(a))) this.key.grantEncryptDecrypt(fn);
    else this.key.grantDecrypt(fn);
  }
}
