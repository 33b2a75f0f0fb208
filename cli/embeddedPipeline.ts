import type { HealthFigures, ReadModelStores } from '../projections/api/QueryService.js';
import { QueryService } from '../projections/api/QueryService.js';
import { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { ProjectionHost } from '../projections/ProjectionHost.js';
import { Projector } from '../projections/Projector.js';
import { READ_MODELS, readModelTable } from '../projections/readModels/index.js';
import { busRouter, type RouterCounts } from '../stream/buses/busRouter.js';
import { EmbeddedRuntime } from '../stream/local/EmbeddedRuntime.js';

export interface PipelineOptions {
  readonly memory?: boolean;
  readonly dataDir?: string;
  readonly onError?: (error: Error) => void;
}

/** The embedded runtime with every read model and the bus router consuming the stream. */
export interface EmbeddedPipeline {
  readonly runtime: EmbeddedRuntime;
  readonly stores: ReadModelStores;
  /** Events published, per bus. */
  readonly published: RouterCounts;
  readonly queries: QueryService;
  stop(): Promise<void>;
}

/** The consumer that feeds every read model (see `ProjectionHost`). */
export const READ_MODELS_CONSUMER = 'read-models';

/**
 * Starts the whole pipeline in this process: dynalite, kinesalite, the relay, the read-model
 * consumer (every read model, each in its own table) and the bus router onto the domain buses.
 */
export async function startPipeline(options: PipelineOptions): Promise<EmbeddedPipeline> {
  const runtime = await EmbeddedRuntime.start({
    ...(options.memory ? { memory: true } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    consumerDefaults: { batchSize: 500, pollIntervalMs: 20 },
  });
  const stores: Record<string, DynamoDocumentStore> = {};
  const projectors: Projector[] = [];
  for (const projection of READ_MODELS) {
    const store = await DynamoDocumentStore.open(runtime.dynamo, readModelTable(projection));
    stores[projection.name] = store;
    projectors.push(new Projector(projection, store));
  }
  const host = new ProjectionHost(projectors);
  await runtime.addConsumer(READ_MODELS_CONSUMER, (events) => host.apply(events));
  const published: RouterCounts = {};
  await runtime.addConsumer('bus-router', busRouter(runtime.publisher, published));
  const health = async (): Promise<HealthFigures> => ({
    consumers: [...runtime.consumers].map(([name, c]) => ({
      name,
      lag_ms: Math.max(0, ...Object.values(c.mapping.lag())),
      applied: c.counts.applied,
    })),
    dead_letters: (await runtime.deadLetters.list()).length,
  });
  const readModels = stores as unknown as ReadModelStores;
  return {
    runtime,
    stores: readModels,
    published,
    queries: new QueryService(readModels, health),
    stop: () => runtime.stop(),
  };
}
