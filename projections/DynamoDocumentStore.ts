import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  DeleteTableCommand,
  type DynamoDBClient,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetReliably, batchWriteReliably } from '../stream/aws/dynamoBatch.js';
import { ensureTable } from '../stream/eventStore/eventsTable.js';
import { mergeAsync } from '../stream/mergeAsync.js';
import type { DocumentStore, QueryRange } from './DocumentStore.js';
import {
  type Doc,
  type DocKey,
  type EntryChanges,
  keyString,
  type StoredDoc,
} from './Projection.js';
import { ProjectionError } from './ProjectionError.js';

type Item = Record<string, AttributeValue>;

/** Documents larger than this are stored gzipped. */
const COMPRESS_OVER = 64 * 1024;
/** DynamoDB's item limit, less room for the keys. */
const MAX_DOC_BYTES = 390 * 1024;
/**
 * The attributes of a shared item's entries start with this: no other attribute does (`pk`,
 * `sk`, `doc`, `docz`, `expires_at`, `mark`).
 */
const ENTRY = 'e:';
/**
 * Entries per UpdateItem call. An update expression is at most 4 KB long and has at most 300
 * operators (Developer Guide, "Expression parameters"); `SET #e99 = :e99, ` takes 14 bytes, so
 * 100 entries stay under 1.5 KB, whatever the entries' names (their names and values travel
 * as substitutions, at most 2 MB in all, and an item holds at most 400 KB anyway).
 */
const ENTRIES_PER_CALL = 100;
/** UpdateItem calls in flight at once for one `update`. */
const UPDATE_LANES = 8;

/**
 * A read model's documents in one DynamoDB table (partition key `pk`, sort key `sk`), each
 * stored as JSON (gzipped past 64 KB), read with BatchGetItem and Query and written with
 * BatchWriteItem, every unprocessed item retried. A shared item's entries are attributes of
 * their own (`e:<name>`, JSON), set and removed with UpdateItem.
 */
export class DynamoDocumentStore implements DocumentStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  /** Creates the table unless it exists. */
  static async open(client: DynamoDBClient, table: string): Promise<DynamoDocumentStore> {
    await ensureTable(client, {
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    return new DynamoDocumentStore(client, table);
  }

  async getMany(keys: readonly DocKey[]): Promise<Map<string, Doc>> {
    const found = await batchGetReliably(
      this.client,
      this.table,
      keys.map((k) => marshall({ pk: k.pk, sk: k.sk })),
      ['pk', 'sk'],
    );
    const out = new Map<string, Doc>();
    for (const item of found.values()) {
      const { pk, sk, doc } = this.read(item);
      out.set(keyString({ pk, sk }), doc);
    }
    return out;
  }

  async query(pk: string, range?: QueryRange): Promise<StoredDoc[]> {
    const docs: StoredDoc[] = [];
    for await (const page of this.queryPages(pk, range)) docs.push(...page);
    return docs;
  }

  /** One Query call per page (DynamoDB returns at most 1 MB a call). */
  async *queryPages(pk: string, range: QueryRange = {}): AsyncGenerator<StoredDoc[]> {
    const values: Record<string, string> = { ':pk': pk };
    let condition = 'pk = :pk';
    if (range.prefix !== undefined) {
      condition += ' AND begins_with(sk, :prefix)';
      values[':prefix'] = range.prefix;
    } else if (range.from !== undefined || range.to !== undefined) {
      condition += ' AND sk BETWEEN :from AND :to';
      values[':from'] = range.from ?? '';
      values[':to'] = range.to ?? '\uffff';
    }
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: condition,
          ExpressionAttributeValues: marshall(values),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      yield (page.Items ?? []).map((item) => ({ ...this.read(item), pk }));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Every document, in pages, `segments` scanned in parallel (in no particular order). */
  async *scanAll(segments = 4): AsyncGenerator<StoredDoc[]> {
    yield* mergeAsync(Array.from({ length: segments }, (_, i) => this.scanSegment(i, segments)));
  }

  /** The documents of one segment of a parallel scan of `segments`, in pages. */
  async *scanSegment(segment: number, segments: number): AsyncGenerator<StoredDoc[]> {
    let after: DocKey | undefined;
    do {
      const page = await this.scanPage(segment, segments, after);
      yield page.docs;
      after = page.next;
    } while (after);
  }

  /**
   * One page of one segment of a parallel scan (1 MB, or `limit` items), from after `after`
   * (the `next` of the page before; none at the start), and where the next page begins (none
   * after the last): a scan that has to stop (a function's time) goes on from there in
   * another call.
   */
  async scanPage(
    segment: number,
    segments: number,
    after?: DocKey,
    limit?: number,
  ): Promise<{ docs: StoredDoc[]; next?: DocKey }> {
    const page = await this.client.send(this.segmentScan(segment, segments, after, limit));
    const docs = (page.Items ?? []).map((item) => this.read(item));
    return page.LastEvaluatedKey ? { docs, next: keyOf(page.LastEvaluatedKey) } : { docs };
  }

  /**
   * How many documents one page of one segment holds (Scan with `Select: COUNT`: DynamoDB
   * reads the page as a scan does, up to 1 MB, and returns its count, not its items), and
   * where the next page begins, as `scanPage` says it.
   */
  async countPage(
    segment: number,
    segments: number,
    after?: DocKey,
    limit?: number,
  ): Promise<{ count: number; next?: DocKey }> {
    const page = await this.client.send(this.segmentScan(segment, segments, after, limit, 'COUNT'));
    const count = page.Count ?? 0;
    return page.LastEvaluatedKey ? { count, next: keyOf(page.LastEvaluatedKey) } : { count };
  }

  /** A Scan of one page of one segment, consistent, from after a key. */
  private segmentScan(
    segment: number,
    segments: number,
    after: DocKey | undefined,
    limit: number | undefined,
    select?: 'COUNT',
  ): ScanCommand {
    return new ScanCommand({
      TableName: this.table,
      Segment: segment,
      TotalSegments: segments,
      ConsistentRead: true,
      ...(select ? { Select: select } : {}),
      ...(limit ? { Limit: limit } : {}),
      ...(after ? { ExclusiveStartKey: marshall({ pk: after.pk, sk: after.sk }) } : {}),
    });
  }

  /** Deletes the table (and every document); nothing when it is gone already. */
  async drop(): Promise<void> {
    try {
      await this.client.send(new DeleteTableCommand({ TableName: this.table }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    // A read model writes one document under several keys (a match under its season and each
    // team): the same object, encoded once.
    const encoded = new Map<object, ReturnType<DynamoDocumentStore['encode']>>();
    const encodeOnce = (d: StoredDoc) => {
      let attribute = encoded.get(d.doc);
      if (attribute === undefined) {
        attribute = this.encode(d);
        encoded.set(d.doc, attribute);
      }
      return attribute;
    };
    await batchWriteReliably(
      this.client,
      this.table,
      [
        ...puts.map((d) => ({
          put: marshall({
            pk: d.pk,
            sk: d.sk,
            ...encodeOnce(d),
            ...(d.expires_at !== undefined ? { expires_at: d.expires_at } : {}),
            ...(d.mark !== undefined ? { mark: d.mark } : {}),
          }),
        })),
        ...deletes.map((k) => ({ delete: marshall({ pk: k.pk, sk: k.sk }) })),
      ],
      ['pk', 'sk'],
    );
  }

  async update(changes: readonly EntryChanges[]): Promise<void> {
    const calls = changes.flatMap((change) => entryCalls(change));
    let next = 0;
    const lane = async () => {
      for (let call = calls[next++]; call; call = calls[next++]) await this.updateItem(call);
    };
    await Promise.all(Array.from({ length: Math.min(UPDATE_LANES, calls.length) }, lane));
  }

  /** One UpdateItem call: SET and REMOVE of some entries of one item. */
  private async updateItem(call: EntryChanges): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const set: string[] = [];
    const remove: string[] = [];
    let i = 0;
    for (const [name, value] of Object.entries(call.set ?? {})) {
      names[`#e${i}`] = ENTRY + name;
      values[`:e${i}`] = { S: JSON.stringify(value) };
      set.push(`#e${i} = :e${i}`);
      i++;
    }
    for (const name of call.remove ?? []) {
      names[`#e${i}`] = ENTRY + name;
      remove.push(`#e${i}`);
      i++;
    }
    const expression = [
      set.length > 0 ? `SET ${set.join(', ')}` : '',
      remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: call.pk, sk: call.sk }),
          UpdateExpression: expression,
          ExpressionAttributeNames: names,
          ...(set.length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error) {
      // DynamoDB refuses an update that would take the item past 400 KB.
      if (
        error instanceof Error &&
        error.name === 'ValidationException' &&
        /size/i.test(error.message)
      )
        throw new ProjectionError(
          'DOCUMENT_TOO_LARGE',
          `item ${call.pk}/${call.sk} of ${this.table} would pass DynamoDB's 400 KB item limit with ${set.length} more entries: ${error.message}`,
        );
      throw error;
    }
  }

  /** The document's attribute: its JSON text, or that text gzipped. */
  private encode(d: StoredDoc): { doc: string } | { docz: Buffer } {
    const json = JSON.stringify(d.doc);
    if (json.length <= COMPRESS_OVER) return { doc: json };
    const zipped = gzipSync(json);
    if (zipped.byteLength > MAX_DOC_BYTES) {
      throw new ProjectionError(
        'DOCUMENT_TOO_LARGE',
        `document ${d.pk}/${d.sk} of ${this.table} takes ${zipped.byteLength} bytes gzipped; the limit is ${MAX_DOC_BYTES}`,
      );
    }
    return { docz: zipped };
  }

  /**
   * A stored item back as its key and document (a shared item's: its entries by name), with
   * its mark when it has one.
   */
  private read(item: Item): StoredDoc {
    const { pk, sk, doc, docz, mark } = unmarshall(item);
    const key = {
      pk: typeof pk === 'string' ? pk : '',
      sk: typeof sk === 'string' ? sk : '',
      ...(typeof mark === 'string' ? { mark } : {}),
    };
    if (typeof doc === 'string') return { ...key, doc: JSON.parse(doc) as Doc };
    if (docz instanceof Uint8Array)
      return { ...key, doc: JSON.parse(gunzipSync(docz).toString('utf8')) as Doc };
    const entries: Record<string, Doc> = {};
    for (const [name, value] of Object.entries(item))
      if (name.startsWith(ENTRY) && value.S !== undefined)
        entries[name.slice(ENTRY.length)] = JSON.parse(value.S) as Doc;
    return { ...key, doc: entries };
  }
}

/** One item's changes as UpdateItem calls of at most `ENTRIES_PER_CALL` entries each. */
function entryCalls(change: EntryChanges): EntryChanges[] {
  const all = [
    ...Object.entries(change.set ?? {}).map(([name, value]) => ({ name, value })),
    ...(change.remove ?? []).map((name) => ({ name, value: undefined })),
  ];
  const calls: EntryChanges[] = [];
  for (let start = 0; start < all.length; start += ENTRIES_PER_CALL) {
    const part = all.slice(start, start + ENTRIES_PER_CALL);
    const set: Record<string, Doc> = {};
    const remove: string[] = [];
    for (const { name, value } of part)
      if (value === undefined) remove.push(name);
      else set[name] = value;
    calls.push({ pk: change.pk, sk: change.sk, set, remove });
  }
  return calls;
}

/** A page's `LastEvaluatedKey` (the table's key: `pk` and `sk`) as a document's key. */
function keyOf(item: Item): DocKey {
  const { pk, sk } = unmarshall(item) as { pk: unknown; sk: unknown };
  if (typeof pk !== 'string' || typeof sk !== 'string')
    throw new Error(`a scan's LastEvaluatedKey without pk and sk: ${JSON.stringify(item)}`);
  return { pk, sk };
}
