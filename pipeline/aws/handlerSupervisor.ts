import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetEventSourceMappingCommand,
  type LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  BREAKER_ITEM_DAYS,
  type BreakerStateStore,
  HELD_MAPPING_PREFIX,
} from '../../stream/breaker/BreakerStateStore.js';

/** What the supervisor did to one handler's event source mapping. */
export interface SupervisorAction {
  /** The handler: its rule name, the owner of its breakers. */
  readonly owner: string;
  readonly mapping: string;
  /**
   * `paused`: a breaker of the handler is open, its mapping is now disabled; `resumed`: its
   * breakers let a trial through, the mapping it paused is enabled again; `held`: still paused;
   * `left`: disabled by someone else, left alone; `running`: nothing to do.
   */
  readonly action: 'paused' | 'resumed' | 'held' | 'left' | 'running';
  /** Until when the open breakers hold it (ms since the epoch), when paused or held. */
  readonly until?: number;
}

export interface SupervisorOptions {
  readonly lambda: LambdaClient;
  readonly dynamo: DynamoDBClient;
  /** The breakers table: the breakers' shared state, and the marks of the paused mappings. */
  readonly table: string;
  readonly breakers: BreakerStateStore;
  /** Each bus handler's event source mapping (its UUID) by the handler's rule name. */
  readonly mappings: Readonly<Record<string, string>>;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * One round of the breaker supervisor (run every minute): a bus handler whose breakers are
 * open stops receiving from its queue (its event source mapping is disabled, so the queue holds
 * the events and no invocation is spent on them), and receives again once its breakers allow a
 * trial: the first batch after that is the trial. Only a mapping the supervisor paused is
 * resumed: it marks the mapping in the breakers table before disabling it, so a mapping an
 * operator disabled stays disabled, and a round that died between the two steps is finished by
 * the next one.
 */
export async function superviseHandlers(options: SupervisorOptions): Promise<SupervisorAction[]> {
  const now = (options.now ?? Date.now)();
  const states = await options.breakers.list();
  const actions: SupervisorAction[] = [];
  for (const [owner, mapping] of Object.entries(options.mappings)) {
    const until = Math.max(
      0,
      ...states
        .filter((s) => s.breaker.startsWith(`${owner}/`) && s.state === 'open')
        .map((s) => s.half_open_at ?? 0)
        .filter((at) => at > now),
    );
    const markKey = marshall({ breaker: `${HELD_MAPPING_PREFIX}${mapping}` });
    const { Item } = await options.dynamo.send(
      new GetItemCommand({ TableName: options.table, Key: markKey, ConsistentRead: true }),
    );
    const marked = Item !== undefined && unmarshall(Item).owner === owner;
    const { State } = await options.lambda.send(
      new GetEventSourceMappingCommand({ UUID: mapping }),
    );
    const enabled = State === 'Enabled' || State === 'Enabling' || State === 'Updating';
    if (until > 0) {
      if (!enabled) {
        actions.push({ owner, mapping, action: marked ? 'held' : 'left', until });
        continue;
      }
      await options.dynamo.send(
        new PutItemCommand({
          TableName: options.table,
          Item: marshall({
            breaker: `${HELD_MAPPING_PREFIX}${mapping}`,
            owner,
            paused_at: now,
            until,
            expires_at: Math.ceil(now / 1000) + BREAKER_ITEM_DAYS * 86_400,
          }),
        }),
      );
      await options.lambda.send(
        new UpdateEventSourceMappingCommand({ UUID: mapping, Enabled: false }),
      );
      actions.push({ owner, mapping, action: 'paused', until });
      continue;
    }
    if (!marked) {
      actions.push({ owner, mapping, action: enabled ? 'running' : 'left' });
      continue;
    }
    if (!enabled)
      await options.lambda.send(
        new UpdateEventSourceMappingCommand({ UUID: mapping, Enabled: true }),
      );
    await options.dynamo.send(new DeleteItemCommand({ TableName: options.table, Key: markKey }));
    actions.push({ owner, mapping, action: enabled ? 'running' : 'resumed' });
  }
  return actions;
}

/** The mappings from the function's `HANDLER_MAPPINGS` (JSON: rule name → mapping UUID). */
export function handlerMappings(text: string | undefined): Record<string, string> {
  if (!text) throw new Error('environment variable HANDLER_MAPPINGS is not set');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('environment variable HANDLER_MAPPINGS is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('environment variable HANDLER_MAPPINGS must map rule names to mapping UUIDs');
  for (const [owner, uuid] of Object.entries(value))
    if (typeof uuid !== 'string' || uuid === '')
      throw new Error(`environment variable HANDLER_MAPPINGS: ${owner} has no mapping UUID`);
  return value as Record<string, string>;
}
