import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';

// moto_server as the tests start it must keep DynamoDB's promise that a conditional write
// checks and writes at once: the event store's racing appends rest on it. moto handles each
// request in a thread and checks a condition before it writes, unlocked; a 1 µs thread switch
// interval makes that race show within a few rounds (7 in 100 before moto's DynamoDB requests
// were handled one at a time).
describe.runIf(motoAvailable())('moto_server, racing conditional puts', () => {
  let moto: Moto;
  let client: DynamoDBClient;

  beforeAll(async () => {
    moto = await startMoto({ switchIntervalSeconds: 0.000_001 });
    client = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 1 });
    await ensureEventsTable(client, 'events');
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('let exactly one of 12 puts of one new key win, round after round', async () => {
    const winners: number[] = [];
    for (let round = 0; round < 50; round++) {
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          client.send(
            new PutItemCommand({
              TableName: 'events',
              Item: {
                aggregate_id: { S: `race-${round}` },
                sequence: { N: '1' },
                writer: { N: String(i) },
              },
              ConditionExpression: 'attribute_not_exists(aggregate_id)',
            }),
          ),
        ),
      );
      for (const r of results) {
        if (r.status === 'rejected')
          expect(r.reason).toHaveProperty('name', 'ConditionalCheckFailedException');
      }
      winners.push(results.filter((r) => r.status === 'fulfilled').length);
    }
    expect(winners.filter((w) => w !== 1)).toEqual([]);
  });
});
