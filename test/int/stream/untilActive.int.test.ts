import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { ensureTable } from '../../../stream/eventStore/eventsTable.js';
import { ownServer, startServerThread } from '../../../stream/local/serverThread.js';

// Servers that keep what they create CREATING for a while, as AWS does for seconds: the
// waits return once it is ACTIVE, not at the first answer, and at once for what exists.
const CREATING_MS = 400;

describe('ensureTable and ensureStream on a server slow to create', () => {
  it('return once the table is ACTIVE, and at once when it exists', async () => {
    const server = await startServerThread('dynalite', { createTableMs: CREATING_MS });
    const client = dynamoClient(ownServer(server.endpoint));
    try {
      const definition = {
        TableName: 'slow',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
        BillingMode: 'PAY_PER_REQUEST' as const,
      };
      await ensureTable(client, definition);
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'slow' }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      // Created already: ResourceInUseException, then ACTIVE at the first look.
      await ensureTable(client, definition);
    } finally {
      client.destroy();
      await server.stop();
    }
  });

  it('return once the stream is ACTIVE, and at once when it exists', async () => {
    const server = await startServerThread('kinesalite', { createStreamMs: CREATING_MS });
    const client = kinesisClient(ownServer(server.endpoint));
    try {
      await ensureStream(client, 'slow', 2);
      const { StreamDescriptionSummary } = await client.send(
        new DescribeStreamSummaryCommand({ StreamName: 'slow' }),
      );
      expect(StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      expect(StreamDescriptionSummary?.OpenShardCount).toBe(2);
      await ensureStream(client, 'slow', 2);
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
