import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/** A breaker's state as the instances of its caller share it (one table item per breaker). */
export interface SharedBreakerState {
  /** `<handler or consumer>/<dependency>`: the item's key. */
  readonly breaker: string;
  readonly state: 'open' | 'closed';
  /** When it opened, ms since the epoch. */
  readonly opened_at?: number;
  /** When the next trial may be made, ms since the epoch. */
  readonly half_open_at?: number;
  readonly reason?: string;
  /** The breaker library's own state (`toJSON`), for the others to start from. */
  readonly policy: string;
  /** When it was written, ms since the epoch: an instance adopts only what is newer. */
  readonly updated_at: number;
  /** The instance that wrote it. */
  readonly by: string;
}

/** Where the breakers' shared state is kept. */
export interface BreakerStateStore {
  get(breaker: string): Promise<SharedBreakerState | undefined>;
  put(state: SharedBreakerState): Promise<void>;
  /** Every breaker's state (what `matchstream status` shows). */
  list(): Promise<SharedBreakerState[]>;
}

/**
 * The key prefix of the marks the breaker supervisor keeps in the same table, one per event
 * source mapping it paused (`held-mapping:<uuid>`): not breakers, so never listed as such.
 */
export const HELD_MAPPING_PREFIX = 'held-mapping:';

/** The breakers table's default name: partition key `breaker`, TTL attribute `expires_at`. */
export const BREAKERS_TABLE = 'matchstream-breakers';

/**
 * How long a breaker's item outlives its last change: a week, then DynamoDB's TTL removes it
 * (a breaker nobody touched for a week is closed, or its caller is gone).
 */
export const BREAKER_ITEM_DAYS = 7;

/**
 * The shared state in a DynamoDB table, one small item per breaker (a read is one read unit).
 * A read is eventually consistent: an instance may adopt an opening a second late, which the
 * breaker's own counting covers meanwhile.
 */
export class DynamoBreakerStateStore implements BreakerStateStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table = BREAKERS_TABLE,
  ) {}

  async get(breaker: string): Promise<SharedBreakerState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall({ breaker }) }),
    );
    return Item ? parse(Item) : undefined;
  }

  async put(state: SharedBreakerState): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          {
            ...state,
            expires_at: Math.ceil(state.updated_at / 1000) + BREAKER_ITEM_DAYS * 86_400,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  async list(): Promise<SharedBreakerState[]> {
    const states: SharedBreakerState[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? [])
        if (!item.breaker?.S?.startsWith(HELD_MAPPING_PREFIX)) states.push(parse(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return states.sort((a, b) => (a.breaker < b.breaker ? -1 : a.breaker > b.breaker ? 1 : 0));
  }
}

/** The shared state in memory (one process, or tests). */
export class InMemoryBreakerStateStore implements BreakerStateStore {
  private readonly states = new Map<string, SharedBreakerState>();

  async get(breaker: string): Promise<SharedBreakerState | undefined> {
    return this.states.get(breaker);
  }

  async put(state: SharedBreakerState): Promise<void> {
    this.states.set(state.breaker, state);
  }

  async list(): Promise<SharedBreakerState[]> {
    return [...this.states.values()].sort((a, b) => (a.breaker < b.breaker ? -1 : 1));
  }
}

function parse(item: Record<string, AttributeValue>): SharedBreakerState {
  const { expires_at: _expires, ...state } = unmarshall(item);
  return state as SharedBreakerState;
}

/** A breaker as its shared state shows it (what `status` and `/health` on AWS print). */
export function sharedSnapshot(shared: SharedBreakerState): {
  name: string;
  state: 'open' | 'closed';
  opened_at?: string;
  half_open_at?: string;
  reason?: string;
} {
  const open = shared.state === 'open';
  return {
    name: shared.breaker,
    state: shared.state,
    ...(open && shared.opened_at ? { opened_at: new Date(shared.opened_at).toISOString() } : {}),
    ...(open && shared.half_open_at
      ? { half_open_at: new Date(shared.half_open_at).toISOString() }
      : {}),
    ...(open && shared.reason ? { reason: shared.reason } : {}),
  };
}
