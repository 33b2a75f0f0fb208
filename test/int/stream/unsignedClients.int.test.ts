import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { ensureTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';

/** The Authorization header of each request the client sends, as sent. */
function authorizations(client: DynamoDBClient | KinesisClient): string[] {
  const seen: string[] = [];
  (client as DynamoDBClient).middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      seen.push(headers.authorization ?? '');
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  return seen;
}

describe("the embedded runtime's clients send unsigned requests to its own servers", () => {
  let dynamo: EmbeddedDynamo;
  let kinesis: EmbeddedKinesis;
  beforeAll(async () => {
    [dynamo, kinesis] = await Promise.all([startEmbeddedDynamo(), startEmbeddedKinesis()]);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), kinesis?.stop()]);
  });

  it('dynalite answers them as it answers signed ones', async () => {
    const unsigned = dynamoClient({ endpoint: dynamo.endpoint, unsigned: true });
    const signed = dynamoClient({ endpoint: dynamo.endpoint });
    const [sent, signedSent] = [authorizations(unsigned), authorizations(signed)];

    // A new table takes writes once it is active, on dynalite as on DynamoDB.
    await ensureTable(unsigned, {
      TableName: 'unsigned-docs',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    await unsigned.send(
      new PutItemCommand({ TableName: 'unsigned-docs', Item: { pk: { S: 'a' }, n: { N: '1' } } }),
    );
    const read = (client: DynamoDBClient) =>
      client.send(new GetItemCommand({ TableName: 'unsigned-docs', Key: { pk: { S: 'a' } } }));

    expect((await read(unsigned)).Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
    expect((await read(signed)).Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
    // Create, describe until active, put, get: all from the unsigned client.
    expect(sent.length).toBeGreaterThanOrEqual(4);
    for (const header of sent) expect(header).toMatch(/^AWS4-HMAC-SHA256 .*Signature=unsigned$/);
    // Without the option, the same client signs: a SigV4 signature is 64 hex digits.
    expect(signedSent[0]).toMatch(/Signature=[0-9a-f]{64}$/);
  });

  it('kinesalite answers them as it answers signed ones', async () => {
    const unsigned = kinesisClient({ endpoint: kinesis.endpoint, unsigned: true });
    const sent = authorizations(unsigned);

    await ensureStream(unsigned, 'unsigned-changes', 1);
    const summary = await unsigned.send(
      new DescribeStreamSummaryCommand({ StreamName: 'unsigned-changes' }),
    );

    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(sent.length).toBeGreaterThan(0);
    for (const header of sent) expect(header).toMatch(/Signature=unsigned$/);
  });
});
