import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { EventEnvelope, NewEvent } from '../EventEnvelope.js';
import { mergeAsync } from '../mergeAsync.js';
import { ConcurrencyError, StoreError } from '../StoreError.js';
import { type Commit, CommitCodec } from './Commit.js';
import { fromItem, toItem } from './commitItem.js';
import type { AppendResult, EventStore, ReadAllOptions, ReadOptions } from './EventStore.js';
import { RELAY_MARKER } from './eventsTable.js';
import { commitOverlaps, readAllFilter, readFilter } from './filters.js';
import type { UnreadableEvents } from './UnreadableEvents.js';

export interface DynamoEventStoreOptions {
  readonly client: DynamoDBClient;
  /** The events table: partition key `aggregate_id` (S), sort key `sequence` (N). */
  readonly table: string;
  readonly registry: SchemaRegistry;
  readonly now?: () => Date;
  /**
   * Marks each new commit for the local change relay (attribute `relay_pending`, indexed),
   * where no Kinesis Data Streams for DynamoDB captures the table's changes. Off on AWS.
   */
  readonly relayMarker?: boolean;
  /** Called after each stored commit. */
  readonly onCommit?: (commit: Commit) => void;
  /**
   * The local change relay of this process, which may take a new commit over: one it takes
   * is written without the marker, and it forwards that commit itself (see `CommitHandOver`).
   */
  readonly relay?: CommitHandOver;
}

/**
 * The local change relay as a store of the same process sees it. A commit it takes is
 * written without the relay marker, so the relay must learn how its write ended: `stored`
 * after it was stored, or `notStored` (`certain` when DynamoDB refused its condition, so
 * nothing was written; not when the write failed otherwise and may have landed). A store
 * calls `take` in the same synchronous step that stamped the commit.
 */
export interface CommitHandOver {
  take(commit: Commit): boolean;
  stored(commit: Commit): void;
  notStored(commit: Commit, certain: boolean): void;
}

type Item = Record<string, AttributeValue>;

/** Where a scan segment goes on: the key of the last item read (DynamoDB's LastEvaluatedKey). */
export type ScanKey = Record<string, AttributeValue>;

/** What a segmented scan takes: the filters of `readAll`, where to go on, and the page size. */
export type ScanOptions = ReadAllOptions & {
  readonly startKey?: ScanKey;
  readonly pageSize?: number;
  /** Streams left out of the scan (read another way), before their events are decoded. */
  readonly exclude?: (aggregateId: string) => boolean;
};

/** One page of a segmented scan. */
export interface ScanPage {
  readonly segment: number;
  /** The page's events that pass the filters, in stream order. */
  readonly events: EventEnvelope[];
  /** Commits read (filtered or not). */
  readonly scanned: number;
  /** Where the segment goes on; null when it is done. */
  readonly next: ScanKey | null;
}

/**
 * The event store on a DynamoDB table, one item per commit (see `Commit`), using nothing
 * but conditional PutItem, GetItem, Query and Scan, so it runs unchanged on DynamoDB, on
 * dynalite and on moto.
 *
 * Concurrency: an append after version v writes the key (aggregate, v + 1) on condition that
 * it does not exist. Because a commit can hold several events, that alone would let a caller
 * whose v falls inside an existing commit write an overlapping one; so for v > 0 the append
 * first checks that the commit covering v ends exactly at v. With both checks, two commits
 * can never overlap (streams only grow), and one of two racing appends always loses.
 */
export class DynamoEventStore implements EventStore {
  protected readonly client: DynamoDBClient;
  readonly table: string;
  protected readonly codec: CommitCodec;
  private readonly relayMarker: boolean;
  private readonly onCommit: ((commit: Commit) => void) | undefined;
  private readonly relay: CommitHandOver | undefined;
  /**
   * Events this store object stored since it was made: those of each commit whose write said
   * so. A commit found stored with the same events and instant is not counted: a write the
   * SDK retried after an answer lost, or as likely another append of the same events in the
   * same millisecond (two movers of one saga), which counted already. What `matchstream
   * start` reports as appended by its run (a read model's count would lag).
   */
  appended = 0;

  constructor(options: DynamoEventStoreOptions) {
    this.client = options.client;
    this.table = options.table;
    this.codec = new CommitCodec(options.registry, options.now);
    this.relayMarker = options.relayMarker ?? false;
    this.onCommit = options.onCommit;
    this.relay = options.relay;
  }

  /** The schemas the store encodes and decodes its events with. */
  get registry(): SchemaRegistry {
    return this.codec.registry;
  }

  async append(
    aggregateId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
  ): Promise<AppendResult> {
    const commit = this.codec.build(aggregateId, expectedVersion, events);
    // A commit the relay takes is written without the marker: the relay must hear how the
    // write ended ('unknown': it failed in a way that may have stored it).
    const taken = this.relayMarker && this.relay?.take(commit) === true;
    let written: 'no' | 'unknown' | 'yes' = 'no';
    try {
      if (expectedVersion > 0) {
        const covering = await this.commitAtOrBefore(aggregateId, expectedVersion);
        if (covering?.last_sequence !== expectedVersion) {
          throw new ConcurrencyError(aggregateId, expectedVersion, await this.version(aggregateId));
        }
      }
      try {
        written = 'unknown';
        await this.call(aggregateId, () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item:
                this.relayMarker && !taken
                  ? { ...toItem(commit), ...RELAY_MARKER }
                  : toItem(commit),
              ConditionExpression: 'attribute_not_exists(aggregate_id)',
            }),
          ),
        );
        written = 'yes';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Refused: nothing written by this attempt, but an earlier one (its answer lost, the
        // SDK sent it again) may have stored this very commit: unknown until it is read.
        const existing = await this.commitAt(aggregateId, commit.sequence);
        const repeat = this.codec.repeated(commit, existing);
        written = repeat && existing?.committed_at === commit.committed_at ? 'yes' : 'no';
        if (repeat) {
          // This very commit, stored by the earlier attempt: the relay that took it forwards it.
          if (taken && written === 'yes') this.relay?.stored(commit);
          return repeat;
        }
        throw new ConcurrencyError(aggregateId, expectedVersion, await this.version(aggregateId));
      }
    } finally {
      if (taken && written !== 'yes') this.relay?.notStored(commit, written === 'no');
    }
    this.appended += commit.events.length;
    this.relay?.stored(commit);
    this.onCommit?.(commit);
    return {
      aggregateId,
      version: commit.last_sequence,
      events: this.codec.envelopes(commit),
      duplicate: false,
    };
  }

  async read(aggregateId: string, options: ReadOptions = {}): Promise<EventEnvelope[]> {
    return this.envelopesOf(await this.readCommits(aggregateId, options), options);
  }

  /** The events of commits `readCommits` gave, as `read` returns them. */
  protected envelopesOf(commits: readonly Commit[], options: ReadOptions): EventEnvelope[] {
    const keep = readFilter(options);
    return commits
      .filter((c) => commitOverlaps(c, options))
      .flatMap((c) => this.codec.envelopes(c, keep, options.unreadable));
  }

  /**
   * The table's commits that hold the events `read` asks for, in order (the first may begin
   * before `fromSequence`), not yet decoded.
   */
  protected async readCommits(aggregateId: string, options: ReadOptions): Promise<Commit[]> {
    const from = options.fromSequence ?? 1;
    // Sequences are safe integers: an open end (Infinity) reads to the end, as in memory.
    const to = Math.min(options.toSequence ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (to < from) return [];
    const commits: Commit[] = [];
    // A commit starting before `from` may still hold it.
    if (from > 1) {
      const covering = await this.commitAtOrBefore(aggregateId, from);
      if (covering && covering.sequence < from) commits.push(covering);
    }
    for await (const page of this.query(
      {
        KeyConditionExpression: 'aggregate_id = :id AND #seq BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#seq': 'sequence' },
        ExpressionAttributeValues: marshall({ ':id': aggregateId, ':from': from, ':to': to }),
      },
      aggregateId,
    )) {
      commits.push(...page);
    }
    return commits;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope[]> {
    const keep = readAllFilter(options);
    if (options.aggregateIds) {
      for (const id of options.aggregateIds) {
        const events = (
          await this.read(id, options.unreadable ? { unreadable: options.unreadable } : {})
        ).filter(keep);
        if (events.length > 0) yield events;
      }
      return;
    }
    const segments = Math.max(1, Math.min(options.segments ?? 4, 1000));
    const events = async function* (pages: AsyncGenerator<ScanPage>) {
      for await (const page of pages) yield page.events;
    };
    const scans = Array.from({ length: segments }, (_, segment) =>
      events(this.scanSegmentPages(segment, segments, options)),
    );
    for await (const batch of mergeAsync(scans)) if (batch.length > 0) yield batch;
  }

  /**
   * One segment of a parallel scan of the whole table, in pages, each with where the segment
   * goes on (`next`, null at its end), so a replay can checkpoint and resume from `startKey`.
   * A stream lives in one partition, hence in one segment, in sequence order across pages.
   */
  async *scanSegmentPages(
    segment: number,
    segments: number,
    options: ScanOptions = {},
  ): AsyncGenerator<ScanPage> {
    const keep = readAllFilter(options);
    const exclude = options.exclude;
    let start: Item | undefined = options.startKey;
    do {
      const page = await this.call(undefined, () =>
        this.client.send(
          new ScanCommand({
            TableName: this.table,
            Segment: segment,
            TotalSegments: segments,
            ConsistentRead: true,
            ExclusiveStartKey: start,
            ...(options.pageSize ? { Limit: options.pageSize } : {}),
          }),
        ),
      );
      const items = page.Items ?? [];
      const read = options.unreadable
        ? readableCommits(items, this.table, options.unreadable)
        : items.map((item) => fromItem(item, this.table));
      const commits = exclude ? read.filter((c) => !exclude(c.aggregate_id)) : read;
      start = page.LastEvaluatedKey;
      yield {
        segment,
        events: commits.flatMap((c) => this.codec.envelopes(c, keep, options.unreadable)),
        scanned: items.length,
        next: (start as ScanKey | undefined) ?? null,
      };
    } while (start);
  }

  /**
   * The stored commits committed after `after` (ISO-8601), undecoded, in pages: a scan with a
   * filter on `committed_at` (it reads the whole table; the filter spares the transfer), for
   * what an archive's export chain does not hold yet.
   */
  async *itemsCommittedAfter(after: string): AsyncGenerator<Item[]> {
    let start: Item | undefined;
    do {
      const page = await this.call(undefined, () =>
        this.client.send(
          new ScanCommand({
            TableName: this.table,
            ConsistentRead: true,
            ExclusiveStartKey: start,
            FilterExpression: 'committed_at > :after',
            ExpressionAttributeValues: { ':after': { S: after } },
          }),
        ),
      );
      start = page.LastEvaluatedKey;
      if (page.Items && page.Items.length > 0) yield page.Items;
    } while (start);
  }

  /** About how many commits the table holds (DynamoDB refreshes the figure every few hours). */
  async approximateCommits(): Promise<number> {
    const { Table } = await this.call(undefined, () =>
      this.client.send(new DescribeTableCommand({ TableName: this.table })),
    );
    return Table?.ItemCount ?? 0;
  }

  /** The sequence of the stream's first commit in the table (undefined when it has none). */
  async firstSequence(aggregateId: string): Promise<number | undefined> {
    const result = await this.call(aggregateId, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'aggregate_id = :id',
          ExpressionAttributeValues: marshall({ ':id': aggregateId }),
          ProjectionExpression: '#seq',
          ExpressionAttributeNames: { '#seq': 'sequence' },
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const first = result.Items?.[0]?.sequence?.N;
    return first === undefined ? undefined : Number(first);
  }

  /** The stream's version: the last sequence of its last commit (0 when empty). */
  async version(aggregateId: string): Promise<number> {
    const [last] = await this.lastCommits(aggregateId, undefined);
    return last?.last_sequence ?? 0;
  }

  /** The last commit starting at or before `sequence` (the one holding it, if any does). */
  private async commitAtOrBefore(
    aggregateId: string,
    sequence: number,
  ): Promise<Commit | undefined> {
    const [commit] = await this.lastCommits(aggregateId, sequence);
    return commit;
  }

  private async lastCommits(
    aggregateId: string,
    atOrBefore: number | undefined,
  ): Promise<Commit[]> {
    const input: Omit<QueryCommandInput, 'TableName'> =
      atOrBefore === undefined
        ? {
            KeyConditionExpression: 'aggregate_id = :id',
            ExpressionAttributeValues: marshall({ ':id': aggregateId }),
          }
        : {
            KeyConditionExpression: 'aggregate_id = :id AND #seq <= :at',
            ExpressionAttributeNames: { '#seq': 'sequence' },
            ExpressionAttributeValues: marshall({ ':id': aggregateId, ':at': atOrBefore }),
          };
    const result = await this.call(aggregateId, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          ...input,
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    return (result.Items ?? []).map((item) => fromItem(item, this.table));
  }

  /** The table's commit starting at `sequence`, if there is one. */
  protected async commitAt(aggregateId: string, sequence: number): Promise<Commit | undefined> {
    const result = await this.call(aggregateId, () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: marshall({ aggregate_id: aggregateId, sequence }),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? fromItem(result.Item, this.table) : undefined;
  }

  private async *query(
    input: Omit<QueryCommandInput, 'TableName'>,
    aggregateId: string,
  ): AsyncGenerator<Commit[]> {
    let start: Item | undefined;
    do {
      const page = await this.call(aggregateId, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            ...input,
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      yield (page.Items ?? []).map((item) => fromItem(item, this.table));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Runs a DynamoDB call (the SDK retries throttling and 5xx); any other failure becomes a StoreError. */
  protected async call<T>(aggregateId: string | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || error instanceof StoreError)
        throw error;
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      throw new StoreError(
        'STORE_UNAVAILABLE',
        `DynamoDB table ${this.table}${aggregateId ? ` (stream ${aggregateId})` : ''}: ${name}: ${message}`,
        { table: this.table, ...(aggregateId ? { aggregateId } : {}) },
        { cause: error },
      );
    }
  }
}

/** The items that are commits; a malformed one is reported unreadable (its stream held back). */
function readableCommits(items: readonly Item[], table: string, unreadable: UnreadableEvents) {
  const commits: Commit[] = [];
  for (const item of items) {
    try {
      commits.push(fromItem(item, table));
    } catch (error) {
      // Numbers kept as written: a damaged item may hold any number DynamoDB does.
      const { aggregate_id, sequence } = unmarshall(item, { wrapNumbers: true });
      unreadable.unreadable({
        aggregate_id: typeof aggregate_id === 'string' ? aggregate_id : '?',
        sequence: Number(sequence ?? Number.NaN),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return commits;
}
