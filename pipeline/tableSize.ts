import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StoreSize } from '../api/QueryService.js';

/**
 * A table's item count and bytes as DescribeTable reports them (DynamoDB updates both about
 * every six hours; the embedded store at once).
 */
export async function tableSize(client: DynamoDBClient, table: string): Promise<StoreSize> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  return { items: Table?.ItemCount ?? null, bytes: Table?.TableSizeBytes ?? null };
}

/**
 * The size of the embedded store kept in a data folder: the bytes of its files on disk
 * (dynalite reports no item count or size of its own); the items are unknown.
 */
export async function folderSize(dir: string): Promise<StoreSize> {
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      bytes += (await stat(join(entry.parentPath, entry.name))).size;
    } catch {
      // A file LevelDB removed meanwhile (a compaction): no longer part of the size.
    }
  }
  return { items: null, bytes };
}
