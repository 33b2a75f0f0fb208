import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteAliasCommand,
  DeleteEventSourceMappingCommand,
  GetAliasCommand,
  GetEventSourceMappingCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ResourceNotFoundException as LambdaNotFound,
  paginateListEventSourceMappings,
} from '@aws-sdk/client-lambda';
import { ActiveDocumentStore } from '../../projections/ActiveDocumentStore.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import type { Projection } from '../../projections/Projection.js';
import { Projector } from '../../projections/Projector.js';
import { generationConsumer, ReadModelRegistry } from '../../projections/ReadModelRegistry.js';
import { READ_MODELS } from '../readModels.js';
import {
  awsBreakers,
  type ConsumerEnv,
  type ConsumerObserver,
  consumerHandler,
  guarded,
  jsonRecord,
  type KinesisHandler,
  required,
} from './consumers.js';

/**
 * The table of a generation the rebuild makes on AWS (generation 2 on): under the stack's
 * prefix (`RM_TABLE_PREFIX`, e.g. `matchstream-prod-rm-`), which is all the functions' roles
 * may create, read and write beyond the stack's own tables.
 *
 * @example generationTableOnAws('matchstream-prod-rm-', { name: 'standings', version: 1 }, 2)
 *   // 'matchstream-prod-rm-standings-v1-g2'
 */
export function generationTableOnAws(
  prefix: string,
  projection: Pick<Projection, 'name' | 'version'>,
  generation: number,
): string {
  return `${prefix}${projection.name}-v${projection.version}-g${generation}`;
}

/**
 * The alias of the generation feeder that a generation's event source mapping invokes: the
 * function learns from the alias (the ARN it was invoked by) which generation a batch is for.
 * Alias names are letters, digits, `-` and `_`, which read model names keep to.
 */
export function generationAlias(projection: string, generation: number): string {
  return `${projection}-g${generation}`;
}

/** The read model and generation an invoked ARN's alias names, or undefined without one. */
export function generationOfArn(
  invokedFunctionArn: string,
): { readonly projection: string; readonly generation: number } | undefined {
  // arn:aws:lambda:<region>:<account>:function:<name>:<alias>
  const alias = invokedFunctionArn.split(':')[7];
  const match = alias ? /^(.+)-g(\d+)$/.exec(alias) : null;
  if (!match?.[1] || !match[2]) return undefined;
  return { projection: match[1], generation: Number(match[2]) };
}

/** A read model by name, or an error that lists them. */
export function readModelNamed(name: string): Projection {
  const projection = READ_MODELS.find((p) => p.name === name);
  if (!projection)
    throw new Error(
      `unknown read model "${name}"; there are ${READ_MODELS.map((p) => p.name).join(', ')}`,
    );
  return projection;
}

/**
 * The registry of read-model generations on AWS (`REGISTRY_TABLE`): a read model it does not
 * list yet has one generation, the table the stack made for it (`READ_MODEL_TABLES`).
 */
export function registryOnAws(env: ConsumerEnv, client: DynamoDBClient): ReadModelRegistry {
  const tables = jsonRecord(env, 'READ_MODEL_TABLES');
  return new ReadModelRegistry(
    new DynamoDocumentStore(client, required(env, 'REGISTRY_TABLE')),
    (projection) => {
      const table = tables[projection.name];
      if (!table) throw new Error(`READ_MODEL_TABLES names no table for ${projection.name}`);
      return table;
    },
  );
}

/**
 * Every read model as its queries read it: the active generation, looked up in the registry
 * again every few seconds (`ActiveDocumentStore`), so that a rebuild's switch reaches the API
 * and the sagas without a deployment.
 */
export function activeReadModelStores(
  env: ConsumerEnv,
  client: DynamoDBClient,
): Map<string, ActiveDocumentStore> {
  const registry = registryOnAws(env, client);
  return new Map(
    READ_MODELS.map((projection) => [
      projection.name,
      new ActiveDocumentStore(
        async () => new DynamoDocumentStore(client, (await registry.active(projection)).table),
      ),
    ]),
  );
}

/**
 * Read and write units a second a table serves at once (DynamoDB's warm throughput). A new
 * on-demand table starts at 12,000 and 4,000 (Developer Guide, "Understanding DynamoDB warm
 * throughput in different scenarios"); a table's values grow with its use and can be raised
 * ahead of it (pre-warming, charged once), never lowered.
 */
export interface WarmThroughput {
  readonly reads: number;
  readonly writes: number;
}

/** A new on-demand table's warm throughput. */
export const NEW_TABLE_WARM: WarmThroughput = { reads: 12_000, writes: 4_000 };

/**
 * The warm throughput a rebuild makes its generation's table with: each of reads and writes
 * at least the active generation's (the switch then moves the API, the sagas and the live
 * consumer onto a table that serves what the one they leave served) and at least what the run
 * asks for (`rebuild --aws --warm-writes`, for the maps' writes). Undefined when that is no
 * more than a new table has anyway: nothing to warm, nothing to pay for.
 *
 * @example generationWarmth({ reads: 30_000, writes: 4_000 }, { writes: 40_000 })
 *   // { reads: 30_000, writes: 40_000 }
 */
export function generationWarmth(
  active: Partial<WarmThroughput> | undefined,
  requested: Partial<WarmThroughput> | undefined,
): WarmThroughput | undefined {
  const warm = {
    reads: Math.max(NEW_TABLE_WARM.reads, active?.reads ?? 0, requested?.reads ?? 0),
    writes: Math.max(NEW_TABLE_WARM.writes, active?.writes ?? 0, requested?.writes ?? 0),
  };
  return warm.reads > NEW_TABLE_WARM.reads || warm.writes > NEW_TABLE_WARM.writes
    ? warm
    : undefined;
}

/** A table's warm throughput as DescribeTable reports it (a new table's when it reports none). */
export async function warmThroughputOf(
  client: DynamoDBClient,
  table: string,
): Promise<WarmThroughput> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  return {
    reads: Table?.WarmThroughput?.ReadUnitsPerSecond ?? NEW_TABLE_WARM.reads,
    writes: Table?.WarmThroughput?.WriteUnitsPerSecond ?? NEW_TABLE_WARM.writes,
  };
}

/**
 * Makes a generation's table as the stack makes the read models' tables (string keys `pk` and
 * `sk`, on demand, encrypted with the stack's key, point-in-time recovery on), or finds it
 * made: run again after a failure, it finishes what it began. With `warm`, the table is made
 * with that warm throughput, or a table found made with less is raised to it (UpdateTable;
 * DynamoDB warms it while it serves), unless it is still being warmed. Returns the table's
 * warm throughput.
 */
export async function ensureGenerationTable(
  client: DynamoDBClient,
  options: {
    readonly table: string;
    readonly kmsKeyArn: string;
    readonly stage?: string;
    readonly warm?: WarmThroughput;
  },
): Promise<WarmThroughput> {
  const { table, warm } = options;
  let found: WarmThroughput | undefined;
  let warming = false;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table) {
      found = {
        reads: Table.WarmThroughput?.ReadUnitsPerSecond ?? NEW_TABLE_WARM.reads,
        writes: Table.WarmThroughput?.WriteUnitsPerSecond ?? NEW_TABLE_WARM.writes,
      };
      warming = Table.WarmThroughput?.Status === 'UPDATING';
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  if (!found)
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          ...(warm
            ? {
                WarmThroughput: {
                  ReadUnitsPerSecond: warm.reads,
                  WriteUnitsPerSecond: warm.writes,
                },
              }
            : {}),
          SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: options.kmsKeyArn },
          Tags: [
            { Key: 'matchstream:role', Value: 'read-model-generation' },
            ...(options.stage ? [{ Key: 'matchstream:stage', Value: options.stage }] : []),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  await waitUntilTableExists({ client, maxWaitTime: 600, minDelay: 2 }, { TableName: table });
  await client.send(
    new UpdateContinuousBackupsCommand({
      TableName: table,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  // A table DynamoDB is still warming (an earlier run's request) takes no other until it is
  // done: the run goes on at what it has.
  if (found && warm && !warming && (warm.reads > found.reads || warm.writes > found.writes)) {
    // Warm throughput is never lowered: ask for no less than the table has.
    const raised = {
      reads: Math.max(warm.reads, found.reads),
      writes: Math.max(warm.writes, found.writes),
    };
    await client.send(
      new UpdateTableCommand({
        TableName: table,
        WarmThroughput: {
          ReadUnitsPerSecond: raised.reads,
          WriteUnitsPerSecond: raised.writes,
        },
      }),
    );
    return raised;
  }
  return found ?? warm ?? (await warmThroughputOf(client, table));
}

/**
 * The Kinesis handler of one generation a rebuild made (fed through its own event source
 * mapping on the feeder's alias for it): the read model's projector over the generation's
 * table, sequenced through the positions of the generation's consumer, which the rebuild's
 * files wrote first, so it skips what they applied. A generation the registry does not list,
 * or lists as dropped, gets nothing written: each batch fails, and stays in the stream.
 *
 * The generation's table is guarded by the breaker `<generation's consumer>/read-model-tables`
 * (its state shared in `BREAKERS_TABLE`), as the read-models consumer guards the first
 * generation's: while it is open the batch is held, waited out within the invocation when
 * the observer's `remainingMs` leaves time for the trial, else reported on its first record.
 */
export async function generationFeederHandler(
  env: ConsumerEnv,
  client: DynamoDBClient,
  target: { readonly projection: string; readonly generation: number },
  observer: ConsumerObserver = {},
): Promise<KinesisHandler> {
  const projection = readModelNamed(target.projection);
  const listed = await registryOnAws(env, client).generation(projection, target.generation);
  if (!listed || listed.status === 'dropped')
    throw new Error(
      `read model ${projection.name} has no generation ${target.generation} to feed${listed ? ' (it was dropped)' : ''}`,
    );
  const consumer = generationConsumer(projection.name, target.generation);
  const projector = new Projector(
    projection,
    guarded(
      awsBreakers(env, client, observer),
      consumer,
      'read-model-tables',
      new DynamoDocumentStore(client, listed.table),
    ),
  );
  return consumerHandler(
    { ...env, CONSUMER: consumer },
    client,
    {
      apply: (events) => projector.apply(events),
      reads: (event) => projector.reads(event),
      skipFirstPositions: projection.guardsRepeats === true,
    },
    observer,
  );
}

/**
 * Whether Lambda has a function of this name (GetFunctionConfiguration). `removeGenerationFeed`
 * cannot tell a feeder that does not exist from an alias that is gone: GetAlias answers
 * ResourceNotFoundException for either (Lambda API reference, GetAlias).
 */
export async function functionExists(lambda: LambdaClient, name: string): Promise<boolean> {
  try {
    await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    return true;
  } catch (error) {
    if (error instanceof LambdaNotFound) return false;
    throw error;
  }
}

/** How long `removeGenerationFeed` waits for deleted mappings to be gone, and how often it looks. */
export interface MappingsGoneWait {
  /** @default 120_000 */
  readonly timeoutMs: number;
  /** @default 2_000 */
  readonly pollMs: number;
}

const MAPPINGS_GONE_WITHIN: MappingsGoneWait = { timeoutMs: 120_000, pollMs: 2_000 };

/**
 * Stops feeding a generation: deletes the event source mappings of the feeder's alias for it
 * (every page of the list), waits until they are gone, then deletes the alias. Either may be
 * gone already; the feeder must exist (`functionExists`). A deleted mapping stays `Deleting`
 * "for several seconds" and may still invoke the alias (Lambda API reference,
 * DeleteEventSourceMapping), so the generation's table may go only once this returns; a
 * mapping still there after `wait.timeoutMs` is an error that leaves the alias, for a run again.
 */
export async function removeGenerationFeed(
  lambda: LambdaClient,
  feeder: string,
  projection: string,
  generation: number,
  wait: MappingsGoneWait = MAPPINGS_GONE_WITHIN,
): Promise<{ readonly mappings: number; readonly alias: boolean }> {
  const name = generationAlias(projection, generation);
  let aliasArn: string | undefined;
  try {
    aliasArn = (await lambda.send(new GetAliasCommand({ FunctionName: feeder, Name: name })))
      .AliasArn;
  } catch (error) {
    if (!(error instanceof LambdaNotFound)) throw error;
  }
  const mappings: string[] = [];
  if (aliasArn) {
    for await (const page of paginateListEventSourceMappings(
      { client: lambda },
      { FunctionName: aliasArn },
    ))
      for (const mapping of page.EventSourceMappings ?? [])
        if (mapping.UUID) {
          // One deleted by an earlier run is on its way: it is waited for like the others.
          if (mapping.State !== 'Deleting')
            try {
              await lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID }));
            } catch (error) {
              if (!(error instanceof LambdaNotFound)) throw error;
            }
          mappings.push(mapping.UUID);
        }
    await mappingsGone(lambda, mappings, `${feeder}:${name}`, wait);
    await lambda.send(new DeleteAliasCommand({ FunctionName: feeder, Name: name }));
  }
  return { mappings: mappings.length, alias: aliasArn !== undefined };
}

/** Deleted event source mappings still there when `removeGenerationFeed` stopped waiting. */
export class MappingsNotGoneError extends Error {
  constructor(
    message: string,
    readonly uuids: readonly string[],
  ) {
    super(message);
    this.name = 'MappingsNotGoneError';
  }
}

/** Waits until GetEventSourceMapping finds none of `uuids`, or throws after `wait.timeoutMs`. */
async function mappingsGone(
  lambda: LambdaClient,
  uuids: readonly string[],
  alias: string,
  wait: MappingsGoneWait,
): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  let left = [...uuids];
  for (;;) {
    const states: (string | undefined)[] = [];
    const still: string[] = [];
    for (const uuid of left)
      try {
        const { State } = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
        still.push(uuid);
        states.push(State);
      } catch (error) {
        if (!(error instanceof LambdaNotFound)) throw error;
      }
    left = still;
    if (left.length === 0) return;
    if (Date.now() >= deadline)
      throw new MappingsNotGoneError(
        `the event source mapping${left.length === 1 ? '' : 's'} ${left.map((uuid, i) => `${uuid} (${states[i] ?? 'state unknown'})`).join(', ')} of ${alias} ${left.length === 1 ? 'is' : 'are'} still there ${Math.round(wait.timeoutMs / 1000)} s after being deleted; the alias and the generation's table are kept: run "matchstream projections drop" again once ${left.length === 1 ? 'it is' : 'they are'} gone (aws lambda get-event-source-mapping --uuid ${left[0]})`,
        left,
      );
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs));
  }
}
