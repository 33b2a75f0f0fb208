import type { Command } from 'commander';
import { READ_MODELS_CONSUMER } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import {
  generationConsumer,
  REGISTRY_TABLE,
  ReadModelRegistry,
} from '../../projections/ReadModelRegistry.js';
import { EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { DEFAULT_DATA_DIR } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { type FolderReader, readModelRegistry } from '../folder/FolderReader.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { wholeNumber } from '../options.js';
import { formatTable } from '../output/table.js';
import { write } from '../write.js';

interface Flags {
  readonly dataDir: string;
  readonly json?: boolean;
}

interface GenerationFlags extends Flags {
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

/** Every read model of a data folder: its generations, the active one, checkpoints and lag. */
export async function projectionsReport(reader: FolderReader) {
  const registry = readModelRegistry(reader);
  const lags = new Map((await reader.consumerLag()).map((l) => [l.consumer, l]));
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
          const lag = lags.get(consumerOf(g.generation));
          return {
            ...g,
            consumer: consumerOf(g.generation),
            lag_ms: g.status === 'live' ? (lag?.lag_ms ?? null) : null,
            shards_behind: g.status === 'live' ? (lag?.shards_behind ?? null) : null,
          };
        }),
        lag_ms: lags.get(consumerOf(entry.active))?.lag_ms ?? null,
      };
    }),
  );
}

export function registerProjections(program: Command): void {
  const projections = program
    .command('projections')
    .description('read models: their generations, which one is active, drop old ones');

  projections
    .command('list')
    .description('every read model, its generations, the active one, checkpoint and lag')
    .option('--data-dir <dir>', 'the pipeline state to look at', DEFAULT_DATA_DIR)
    .option('--json', 'print a list of objects (name, version, active, generations, lag_ms, ...)')
    .action(async (flags: Flags) => {
      const list = await withDataFolder(flags.dataDir, projectionsReport);
      if (flags.json) {
        await write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      // One table for every generation of every read model, so the columns line up throughout.
      const rows = formatTable(
        list.flatMap((m) =>
          m.generations.map((g) => [
            g.generation === m.active ? '*' : ' ',
            `g${g.generation}`,
            g.status,
            g.table,
            `v${g.projection_version}`,
            g.status !== 'live'
              ? ''
              : g.lag_ms === null
                ? 'no checkpoint yet'
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
      await write(`${lines.join('\n')}\n`);
    });

  projections
    .command('activate')
    .description('make a live generation of a read model the one queries read')
    .argument('<name>', 'read model')
    .requiredOption('--generation <n>', 'the generation', wholeNumber(1, 1_000_000))
    .option('--data-dir <dir>', 'the pipeline state', DEFAULT_DATA_DIR)
    .action(async (name: string, flags: GenerationFlags) => {
      const projection = projectionNamed(name);
      await withRegistry(flags.dataDir, async (registry) => {
        try {
          await registry.activate(projection, flags.generation);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      });
      await write(`${name}: generation ${flags.generation} is active\n`);
    });

  projections
    .command('drop')
    .description('delete an old generation of a read model (never the active one)')
    .argument('<name>', 'read model')
    .requiredOption('--generation <n>', 'the generation to drop', wholeNumber(1, 1_000_000))
    .option('--data-dir <dir>', 'the pipeline state', DEFAULT_DATA_DIR)
    .addHelpText('after', '\nExample:\n  matchstream projections drop standings --generation 1')
    .action(async (name: string, flags: GenerationFlags) => {
      const projection = projectionNamed(name);
      const dropped = await withRegistry(flags.dataDir, async (registry, runtime) => {
        let generation: Awaited<ReturnType<ReadModelRegistry['markDropped']>>;
        try {
          generation = await registry.markDropped(projection, flags.generation);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
        await new DynamoDocumentStore(runtime.dynamo, generation.table).drop();
        return generation;
      });
      await write(
        `${name}: generation ${flags.generation} dropped (table ${dropped.table} deleted)\n`,
      );
    });
}
