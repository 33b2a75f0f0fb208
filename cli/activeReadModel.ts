import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { REGISTRY_TABLE, ReadModelRegistry } from '../projections/ReadModelRegistry.js';
import { READ_MODELS } from '../projections/readModels/index.js';

/** The documents of a read model's active generation (for commands that only read). */
export async function activeReadModel(
  client: DynamoDBClient,
  name: string,
): Promise<DynamoDocumentStore> {
  const projection = READ_MODELS.find((p) => p.name === name);
  if (!projection) throw new Error(`unknown read model ${name}`);
  const registry = new ReadModelRegistry(await DynamoDocumentStore.open(client, REGISTRY_TABLE));
  return DynamoDocumentStore.open(client, (await registry.active(projection)).table);
}
