import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  DeleteTableCommand,
  type DynamoDBClient,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetReliably, batchWriteReliably } from '../stream/aws/dynamoBatch.js';
import { ensureTable } from '../stream/eventStore/eventsTable.js';
import { mergeAsync } from '../stream/mergeAsync.js';
import type { DocumentStore } from './DocumentStore.js';
import { type Doc, type DocKey, keyString, type StoredDoc } from './Projection.js';
import { ProjectionError } from './ProjectionError.js';

type Item = Record<string, AttributeValue>;

/** Documents larger than this are stored gzipped. */
const COMPRESS_OVER = 64 * 1024;
/** DynamoDB's item limit, less room for the keys. */
const MAX_DOC_BYTES = 390 * 1024;

/**
 * A read model's documents in one DynamoDB table (partition key `pk`, sort key `sk`), each
 * stored as JSON (gzipped past 64 KB), read with BatchGetItem and Query and written with
 * BatchWriteItem, every unprocessed item retried.
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

  async query(
    pk: string,
    range: { prefix?: string; from?: string; to?: string } = {},
  ): Promise<StoredDoc[]> {
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
    const docs: StoredDoc[] = [];
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
      for (const item of page.Items ?? []) docs.push({ ...this.read(item), pk });
      start = page.LastEvaluatedKey;
    } while (start);
    return docs;
  }

  /** Every document, in pages, `segments` scanned in parallel (in no particular order). */
  async *scanAll(segments = 4): AsyncGenerator<StoredDoc[]> {
    const scan = async function* (
      this: DynamoDocumentStore,
      segment: number,
    ): AsyncGenerator<StoredDoc[]> {
      let start: Item | undefined;
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.table,
            Segment: segment,
            TotalSegments: segments,
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        yield (page.Items ?? []).map((item) => this.read(item));
        start = page.LastEvaluatedKey;
      } while (start);
    };
    yield* mergeAsync(Array.from({ length: segments }, (_, i) => scan.call(this, i)));
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
    await batchWriteReliably(
      this.client,
      this.table,
      [
        ...puts.map((d) => ({
          put: marshall({
            pk: d.pk,
            sk: d.sk,
            ...this.encode(d),
            ...(d.expires_at !== undefined ? { expires_at: d.expires_at } : {}),
          }),
        })),
        ...deletes.map((k) => ({ delete: marshall({ pk: k.pk, sk: k.sk }) })),
      ],
      ['pk', 'sk'],
    );
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

  /** A stored item back as its key and document. */
  private read(item: Item): StoredDoc {
    const { pk, sk, doc, docz } = unmarshall(item);
    const text =
      typeof doc === 'string'
        ? doc
        : docz instanceof Uint8Array
          ? gunzipSync(docz).toString('utf8')
          : '{}';
    return {
      pk: typeof pk === 'string' ? pk : '',
      sk: typeof sk === 'string' ? sk : '',
      doc: JSON.parse(text) as Doc,
    };
  }
}
