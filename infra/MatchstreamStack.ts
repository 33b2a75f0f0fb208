import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { READ_MODELS } from '../projections/readModels/index.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { DocumentTables } from './constructs/DocumentTables.js';
import { DomainBuses } from './constructs/DomainBuses.js';
import { EventStore } from './constructs/EventStore.js';
import { GlueSchemas } from './constructs/GlueSchemas.js';
import { Monitoring } from './constructs/Monitoring.js';
import {
  type ConsumerSettings,
  type NodeVersion,
  StreamConsumer,
} from './constructs/StreamConsumer.js';

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
  /** The Node.js version of the functions (20, 22 or 24). */
  readonly node: NodeVersion;
  /** Settings per consumer, by consumer name (`read-models`, `bus-router`). */
  readonly consumers: Readonly<Record<string, ConsumerSettings>>;
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
  readonly consumers: Readonly<Record<'read-models' | 'bus-router', StreamConsumer>>;

  constructor(scope: Construct, id: string, props: MatchstreamStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const prefix = `matchstream-${settings.stage}`;

    this.key = new kms.Key(this, 'Key', {
      description: `${prefix}: events, change stream, read models, queues`,
      enableKeyRotation: true,
    });
    this.eventStore = new EventStore(this, 'EventStore', {
      key: this.key,
      shards: settings.shards,
      retention: Duration.hours(settings.retentionHours),
      retain: settings.retainEvents,
    });
    this.buses = new DomainBuses(this, 'Buses', { prefix });
    this.schemas = new GlueSchemas(this, 'Schemas', {
      name: prefix,
      schemas: SchemaRegistry.fromDirectory(),
    });
    this.readModels = new DocumentTables(this, 'ReadModels', {
      key: this.key,
      tables: Object.fromEntries(
        READ_MODELS.map((p) => [p.name, { partitionKey: 'pk', sortKey: 'sk' }]),
      ),
    });
    this.runtimeTables = new DocumentTables(this, 'Runtime', {
      key: this.key,
      tables: {
        positions: { partitionKey: 'consumer', sortKey: 'aggregate_id' },
        deadLetters: { partitionKey: 'consumer', sortKey: 'id' },
      },
    });
    const runtime = this.runtimeTables.tables;
    const positions = runtime.positions;
    const deadLetters = runtime.deadLetters;
    if (!positions || !deadLetters) throw new Error('runtime tables missing');
    const common = {
      EVENTS_TABLE: this.eventStore.table.tableName,
      POSITIONS_TABLE: positions.tableName,
      DEAD_LETTERS_TABLE: deadLetters.tableName,
    };

    const readModels = new StreamConsumer(this, 'ReadModelsConsumer', {
      ...settings.consumers['read-models'],
      consumer: 'read-models',
      node: settings.node,
      entry: 'readModelsFunction.ts',
      stream: this.eventStore.stream,
      key: this.key,
      environment: {
        ...common,
        READ_MODEL_TABLES: this.toJsonString(
          Object.fromEntries(
            Object.entries(this.readModels.tables).map(([name, t]) => [name, t.tableName]),
          ),
        ),
      },
    });
    const busRouter = new StreamConsumer(this, 'BusRouterConsumer', {
      ...settings.consumers['bus-router'],
      consumer: 'bus-router',
      node: settings.node,
      entry: 'busRouterFunction.ts',
      stream: this.eventStore.stream,
      key: this.key,
      environment: {
        ...common,
        BUS_NAMES: this.toJsonString(this.buses.names()),
      },
    });
    this.consumers = { 'read-models': readModels, 'bus-router': busRouter };

    // Least privilege, through the constructs' grants: each consumer reads the events (and
    // fills gaps from them), keeps its positions, and writes only its own effects.
    for (const consumer of [readModels, busRouter]) {
      this.eventStore.table.grantReadData(consumer.function);
      positions.grantReadWriteData(consumer.function);
    }
    for (const table of Object.values(this.readModels.tables))
      table.grantReadWriteData(readModels.function);
    for (const bus of Object.values(this.buses.buses)) bus.grantPutEventsTo(busRouter.function);
    deadLetters.grantWriteData(busRouter.function);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: prefix,
      key: this.key,
      consumers: this.consumers,
      publisher: 'bus-router',
    });
  }
}
