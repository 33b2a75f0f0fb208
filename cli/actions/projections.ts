import {
  DeleteTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  functionExists,
  MappingsNotGoneError,
  removeGenerationFeed,
} from '../../pipeline/aws/generations.js';
import { READ_MODELS_CONSUMER } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import {
  generationConsumer,
  REGISTRY_TABLE,
  ReadModelRegistry,
} from '../../projections/ReadModelRegistry.js';
import { clientConfig, REGION_SOURCES } from '../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import type { ConsumerLag } from '../../stream/local/consumerLag.js';
import { EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { requireDeployedTable } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import {
  type FolderReader,
  lagOrReason,
  readModelRegistry,
  streamUnreadable,
} from '../folder/FolderReader.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { write } from '../write.js';

export interface ProjectionFlags {
  readonly dataDir: string;
  readonly json?: boolean;
  /** The deployed registry (`--aws --registry-table`). */
  readonly aws?: boolean;
  readonly registryTable?: string;
  /** With --aws, for drop: the generation feeder (its alias and mapping per generation). */
  readonly feeder?: string;
}

export interface GenerationFlags extends ProjectionFlags {
  readonly generation: number;
}

function projectionNamed(name: string) {
  const projection = READ_MODELS.find((p) => p.name === name);
  if (!projection)
    throw new CliError(
      `unknown read model "${name}"; there are ${READ_MODELS.map((p) => p.name).join(', ')}`,
      EXIT.USAGE,
    );
  return projection;
}

async function withRegistry<T>(
  dataDir: string,
  work: (registry: ReadModelRegistry, runtime: EmbeddedRuntime) => Promise<T>,
): Promise<T> {
  requireDataFolder(dataDir);
  const runtime = await EmbeddedRuntime.start({ dataDir, relay: false });
  try {
    const registry = new ReadModelRegistry(
      await DynamoDocumentStore.open(runtime.dynamo, REGISTRY_TABLE),
    );
    return await work(registry, runtime);
  } finally {
    await runtime.stop();
  }
}

/**
 * Whether the flags are for the deployed stack. Its flags without `--aws` are refused: the
 * command would work on the data folder instead, and say nothing of it.
 */
function onAws(flags: ProjectionFlags): boolean {
  if (!flags.aws && (flags.registryTable !== undefined || flags.feeder !== undefined))
    throw new CliError(
      '--registry-table and --feeder name the deployed stack: add --aws (without it, the data folder is used)',
      EXIT.USAGE,
    );
  return flags.aws === true;
}

/**
 * The deployed registry (`--aws --registry-table`): a read model it does not list yet has one
 * generation, the table the stack made for it.
 */
async function awsRegistry(flags: ProjectionFlags): Promise<{
  registry: ReadModelRegistry;
  dynamo: DynamoDBClient;
}> {
  if (!flags.registryTable)
    throw new CliError(
      'with --aws, name the registry: --registry-table <the stack output RegistryTable>',
      EXIT.USAGE,
    );
  const dynamo = dynamoClient();
  try {
    await requireDeployedTable(dynamo, flags.registryTable, {
      output: 'RegistryTable',
      flag: '--registry-table',
    });
  } catch (error) {
    dynamo.destroy();
    throw new CliError((error as Error).message, EXIT.FAILURE, { cause: error });
  }
  return {
    dynamo,
    registry: new ReadModelRegistry(
      new DynamoDocumentStore(dynamo, flags.registryTable),
      (projection) => `(the stack's ${projection.name} table)`,
    ),
  };
}

/**
 * Every read model of a data folder: its generations, the active one, checkpoints and lag; and
 * why the lag is unknown where the change stream could not be read (the rest does not need it).
 */
export async function projectionsReport(reader: FolderReader) {
  const [{ consumers, stream_unreadable: unreadable }, unrelayed] = await Promise.all([
    lagOrReason(reader),
    reader.unrelayedCommits(),
  ]);
  const lags = new Map(consumers?.map((l) => [l.consumer, l]));
  const list = await registryReport(
    readModelRegistry(reader),
    (consumer) => lags.get(consumer),
    unrelayed,
  );
  return { list, unreadable };
}

/**
 * Every read model of a registry: its generations, each with the consumer that keeps it, the
 * active one, and the lag of the live ones' consumers where `lagOf` knows it (null where not);
 * on a data folder, the commits stored that are not on its change stream yet, which no
 * consumer has seen (`unrelayed`; absent on AWS, which has no relay).
 */
function registryReport(
  registry: ReadModelRegistry,
  lagOf: (consumer: string) => Pick<ConsumerLag, 'lag_ms' | 'shards_behind'> | undefined,
  unrelayed?: number,
) {
  return Promise.all(
    READ_MODELS.map(async (p) => {
      const entry = await registry.entry(p);
      const active = entry.generations.find((g) => g.generation === entry.active);
      const consumerOf = (generation: number) =>
        generation === 1 ? READ_MODELS_CONSUMER : generationConsumer(p.name, generation);
      return {
        name: p.name,
        version: p.version,
        active: entry.active,
        activated_at: entry.activated_at,
        rebuild_needed: (active?.projection_version ?? p.version) < p.version,
        generations: entry.generations.map((g) => {
          const lag = g.status === 'live' ? lagOf(consumerOf(g.generation)) : undefined;
          return {
            ...g,
            consumer: consumerOf(g.generation),
            lag_ms: lag?.lag_ms ?? null,
            shards_behind: lag?.shards_behind ?? null,
          };
        }),
        lag_ms: lagOf(consumerOf(entry.active))?.lag_ms ?? null,
        ...(unrelayed === undefined ? {} : { unrelayed_commits: unrelayed }),
      };
    }),
  );
}

/** `projections list`: every read model, its generations, the active one, checkpoint and lag. */
export async function runProjectionsList(flags: ProjectionFlags): Promise<void> {
  const { list, unreadable } = onAws(flags)
    ? { list: await awsReport(flags), unreadable: undefined }
    : await withDataFolder(flags.dataDir, projectionsReport);
  if (flags.json) await write(`${JSON.stringify(list, null, 2)}\n`);
  else await write(describeList(list, flags, unreadable !== undefined));
  if (unreadable !== undefined) throw streamUnreadable(unreadable);
}

/** The read models as a table of their generations (`lagUnknown`: the stream was not read). */
function describeList(
  list: Awaited<ReturnType<typeof registryReport>>,
  flags: ProjectionFlags,
  lagUnknown: boolean,
): string {
  // One table for every generation of every read model, so the columns line up throughout.
  const rows = formatTable(
    list.flatMap((m) =>
      m.generations.map((g) => [
        g.generation === m.active ? '*' : ' ',
        `g${g.generation}`,
        g.status,
        g.table,
        `v${g.projection_version}`,
        g.status !== 'live' || flags.aws
          ? ''
          : m.unrelayed_commits
            ? `${counted(m.unrelayed_commits, 'commit')} behind, not relayed yet`
            : g.lag_ms === null
              ? lagUnknown
                ? 'lag unknown'
                : 'no checkpoint yet'
              : g.lag_ms === 0
                ? 'caught up'
                : `${g.lag_ms} ms behind`,
      ]),
    ),
    [],
    '  ',
  );
  const lines = list.flatMap((m) => [
    `${m.name} (v${m.version}): generation ${m.active} active${m.rebuild_needed ? ' — built by an older version, rebuild it' : ''}`,
    ...rows.splice(0, m.generations.length),
  ]);
  const unrelayed = list[0]?.unrelayed_commits;
  if (unrelayed)
    lines.push(
      `${counted(unrelayed, 'commit')} stored ${unrelayed === 1 ? 'is' : 'are'} not on the change stream yet: the read models apply ${unrelayed === 1 ? 'it' : 'them'} when a pipeline runs on the folder (start, serve)`,
    );
  return `${lines.join('\n')}\n`;
}

/** `projections activate`: a live generation made the one queries read. */
export async function runProjectionsActivate(name: string, flags: GenerationFlags): Promise<void> {
  const projection = projectionNamed(name);
  const activate = async (registry: ReadModelRegistry) => {
    try {
      await registry.activate(projection, flags.generation);
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  };
  if (onAws(flags)) {
    const { registry, dynamo } = await awsRegistry(flags);
    try {
      await activate(registry);
    } finally {
      dynamo.destroy();
    }
  } else await withRegistry(flags.dataDir, activate);
  await write(`${name}: generation ${flags.generation} is active\n`);
}

/** `projections drop`: an old generation deleted. */
export async function runProjectionsDrop(name: string, flags: GenerationFlags): Promise<void> {
  const projection = projectionNamed(name);
  if (onAws(flags)) {
    await write(await dropOnAws(projection, flags));
    return;
  }
  const dropped = await withRegistry(flags.dataDir, async (registry, runtime) => {
    // One marked dropped already has its table deleted again (nothing if it is gone): a drop
    // cut short between the two finishes when run again, as on AWS.
    let generation = await registry.generation(projection, flags.generation);
    if (generation?.status !== 'dropped')
      try {
        generation = await registry.markDropped(projection, flags.generation);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
    if (!generation) throw new CliError(`read model ${name} has no generation ${flags.generation}`);
    await new DynamoDocumentStore(runtime.dynamo, generation.table).drop();
    return generation;
  });
  await write(`${name}: generation ${flags.generation} dropped (table ${dropped.table} deleted)\n`);
}

/** `projections list --aws`: the deployed registry's read models and generations (no lag: see the dashboard). */
async function awsReport(flags: ProjectionFlags) {
  const { registry, dynamo } = await awsRegistry(flags);
  try {
    return await registryReport(registry, () => undefined);
  } finally {
    dynamo.destroy();
  }
}

/**
 * `projections drop --aws`: a generation a rebuild made, marked dropped, then its mapping and
 * its alias deleted (nothing feeds it), then its table. One already marked dropped is cleaned
 * up again, so a drop cut short is finished by running it again.
 */
async function dropOnAws(
  projection: (typeof READ_MODELS)[number],
  flags: GenerationFlags,
): Promise<string> {
  if (flags.generation === 1)
    throw new CliError(
      `generation 1 of ${projection.name} is the stack's own table, fed by its read-models consumer: it goes with the stack`,
      EXIT.USAGE,
    );
  if (!flags.feeder)
    throw new CliError(
      'projections drop --aws needs --feeder <the stack output GenerationFeeder>',
      EXIT.USAGE,
    );
  const { registry, dynamo } = await awsRegistry(flags);
  const lambda = new LambdaClient(clientConfig({}));
  try {
    const listed = await registry.generation(projection, flags.generation);
    if (!listed)
      throw new CliError(`read model ${projection.name} has no generation ${flags.generation}`);
    // A feeder that is not there has no alias to find: the mapping of the real one would go on
    // feeding the table deleted below.
    if (!(await functionExists(lambda, flags.feeder)))
      throw new CliError(
        `no function ${flags.feeder} in ${await lambda.config.region()}: give the stack output GenerationFeeder with --feeder (and its region with ${REGION_SOURCES}); nothing was dropped`,
      );
    if (listed.status !== 'dropped')
      try {
        await registry.markDropped(projection, flags.generation);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
    let removed: Awaited<ReturnType<typeof removeGenerationFeed>>;
    try {
      removed = await removeGenerationFeed(lambda, flags.feeder, projection.name, flags.generation);
    } catch (error) {
      if (error instanceof MappingsNotGoneError) throw new CliError(error.message);
      throw error;
    }
    try {
      await dynamo.send(new DeleteTableCommand({ TableName: listed.table }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    return `${projection.name}: generation ${flags.generation} dropped (${removed.mappings} event source mapping${removed.mappings === 1 ? '' : 's'} and ${removed.alias ? 'the alias' : 'no alias'} removed, table ${listed.table} deleted)\n`;
  } finally {
    dynamo.destroy();
    lambda.destroy();
  }
}
