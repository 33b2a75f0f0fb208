import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ensureTable } from '../eventStore/eventsTable.js';
import type { ReplayCheckpoint, ReplayCheckpoints } from './replay.js';

/** The replay checkpoints table's default name: partition key `name`. */
export const REPLAYS_TABLE = 'matchstream-replays';

/** Replay checkpoints in a DynamoDB table, one item per replay name. */
export class DynamoReplayCheckpoints implements ReplayCheckpoints {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table = REPLAYS_TABLE,
  ) {}

  static async open(client: DynamoDBClient, table = REPLAYS_TABLE) {
    await ensureTable(client, {
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'name', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
    });
    return new DynamoReplayCheckpoints(client, table);
  }

  async load(name: string): Promise<ReplayCheckpoint | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ name }),
        ConsistentRead: true,
      }),
    );
    const checkpoint = Item ? unmarshall(Item).checkpoint : undefined;
    return typeof checkpoint === 'string' && checkpoint ? fromJson(checkpoint) : undefined;
  }

  async save(checkpoint: ReplayCheckpoint): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ name: checkpoint.name, checkpoint: toJson(checkpoint) }),
      }),
    );
  }
}

/** Checkpoints in process memory (tests). */
export class InMemoryReplayCheckpoints implements ReplayCheckpoints {
  readonly saved = new Map<string, ReplayCheckpoint>();

  async load(name: string): Promise<ReplayCheckpoint | undefined> {
    const saved = this.saved.get(name);
    return saved && structuredClone(saved);
  }

  async save(checkpoint: ReplayCheckpoint): Promise<void> {
    this.saved.set(checkpoint.name, structuredClone(checkpoint));
  }
}

/**
 * JSON has no `undefined` in a list: a segment not started (undefined) would come back as a
 * finished one (null) and be skipped on resume, so their places are kept beside the keys.
 */
function toJson(checkpoint: ReplayCheckpoint): string {
  const notStarted = checkpoint.keys.flatMap((key, i) => (key === undefined ? [i] : []));
  return JSON.stringify({ ...checkpoint, not_started: notStarted });
}

function fromJson(json: string): ReplayCheckpoint {
  const { not_started: notStarted = [], ...checkpoint } = JSON.parse(json) as ReplayCheckpoint & {
    not_started?: number[];
  };
  const keys = [...checkpoint.keys];
  for (const i of notStarted) keys[i] = undefined;
  return { ...checkpoint, keys };
}
