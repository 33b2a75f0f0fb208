import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { describe, expect, it } from 'vitest';
import type { TransportRequest, TransportResponse } from '../../../stream/aws/clientConfig.js';
import { sendDirectly, sendsDirectly } from '../../../stream/aws/directDynamo.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { answerOk, bySdk, scriptedServer } from '../../support/scriptedTransport.js';

const refused =
  (status: number, type: string, more: object = {}) =>
  () => ({
    status,
    headers: {},
    body: JSON.stringify({
      __type: `com.amazonaws.dynamodb.v20120810#${type}`,
      message: 'said so',
      ...more,
    }),
  });

function client(
  transport: (r: TransportRequest) => Promise<TransportResponse>,
  timeoutMs?: number,
) {
  const c = dynamoClient({
    endpoint: 'http://127.0.0.1:1',
    unsigned: true,
    transport,
    retryStrategy: new ConfiguredRetryStrategy(3, 1),
  });
  return timeoutMs === undefined ? c : sendDirectly(c, transport, { answerTimeoutMs: timeoutMs });
}

describe('requests on items handed to a server thread directly', () => {
  it('write bytes as base64 and leave the input as it was', async () => {
    const { asked, transport } = scriptedServer([answerOk({})]);
    const item = {
      pk: { S: 'k' },
      b: { B: new Uint8Array([1, 2, 255]) },
      bs: { BS: [new Uint8Array([0]), Buffer.from('hi')] },
      nested: { M: { inner: { L: [{ B: new Uint8Array([7]) }, { S: 'B' }] } } },
    };
    const before = JSON.stringify(item);
    const output = await client(transport).send(new PutItemCommand({ TableName: 't', Item: item }));

    expect(asked).toHaveLength(1);
    const request = asked[0] as TransportRequest;
    expect(bySdk(request)).toBe(false);
    expect(request.headers['x-amz-target']).toBe('DynamoDB_20120810.PutItem');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=/);
    expect(JSON.parse(String(request.body))).toEqual({
      TableName: 't',
      Item: {
        pk: { S: 'k' },
        b: { B: 'AQL/' },
        bs: { BS: ['AA==', 'aGk='] },
        nested: { M: { inner: { L: [{ B: 'Bw==' }, { S: 'B' }] } } },
      },
    });
    expect(JSON.stringify(item)).toBe(before);
    expect(output.$metadata).toEqual({
      httpStatusCode: 200,
      requestId: 'r-1',
      attempts: 1,
      totalRetryDelay: 0,
    });
  });

  it('read base64 as bytes, and nothing else', async () => {
    const { transport } = scriptedServer([
      answerOk({
        Item: {
          pk: { S: 'k' },
          b: { B: 'AQL/' },
          bs: { BS: ['AA==', 'aGk='] },
          m: { M: { B: { S: 'AQL/' }, BS: { N: '1' } } },
          empty: { B: '' },
        },
      }),
    ]);
    const { Item } = await client(transport).send(
      new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }),
    );

    expect(Item?.b?.B).toBeInstanceOf(Uint8Array);
    expect([...(Item?.b?.B ?? [])]).toEqual([1, 2, 255]);
    expect(Item?.bs?.BS?.map((b) => [...b])).toEqual([[0], [104, 105]]);
    expect(Item?.m).toEqual({ M: { B: { S: 'AQL/' }, BS: { N: '1' } } });
    expect([...(Item?.empty?.B ?? [1])]).toEqual([]);
  });

  it("raise the client's own exception for an error answer, its members read as well", async () => {
    const { transport } = scriptedServer([
      refused(400, 'ConditionalCheckFailedException', { Item: { b: { B: 'AQ==' } } }),
      refused(400, 'SomethingNew'),
    ]);
    const c = client(transport);
    const put = () => c.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'k' } } }));

    const error = await put().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'said so',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect([...((error as ConditionalCheckFailedException).Item?.b?.B ?? [])]).toEqual([1]);

    const unknown = await put().catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(DynamoDBServiceException);
    expect(unknown).toMatchObject({ name: 'SomethingNew', message: 'said so' });
  });

  it("leave throttling, server errors and a transport's failure to the SDK, which retries them", async () => {
    const { asked, transport } = scriptedServer([
      refused(400, 'ThrottlingException'),
      answerOk({ Item: { pk: { S: 'a' } } }),
      refused(500, 'InternalServerError'),
      answerOk({ Item: { pk: { S: 'b' } } }),
      () => {
        throw new Error('thread busy');
      },
      answerOk({ Item: { pk: { S: 'c' } } }),
    ]);
    const c = client(transport);
    const get = () => c.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }));

    expect((await get()).Item).toEqual({ pk: { S: 'a' } });
    expect((await get()).Item).toEqual({ pk: { S: 'b' } });
    expect((await get()).Item).toEqual({ pk: { S: 'c' } });
    expect(asked.map(bySdk)).toEqual([false, true, false, true, false, true]);
  });

  it('leave a request with no answer in time to the SDK', async () => {
    const { asked, transport } = scriptedServer([
      () => new Promise<never>(() => {}),
      answerOk({ Item: { pk: { S: 'late' } } }),
    ]);
    const output = await client(transport, 50).send(
      new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }),
    );
    expect(output.Item).toEqual({ pk: { S: 'late' } });
    expect(asked.map(bySdk)).toEqual([false, true]);
  });

  it('abort as the SDK does: before the request, or while it waits', async () => {
    const { asked, transport } = scriptedServer([() => new Promise<never>(() => {})]);
    const c = client(transport);
    const get = (signal: AbortSignal) =>
      c.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }), {
        abortSignal: signal,
      });

    await expect(get(AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect(asked).toHaveLength(0);
    const controller = new AbortController();
    const waiting = get(controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(asked).toHaveLength(1);
  });

  it('send other operations the SDK way, and keep the middleware before it', async () => {
    const { asked, transport } = scriptedServer([
      answerOk({ Table: { TableName: 't' } }),
      answerOk({}),
    ]);
    const c = client(transport);
    const seen: string[] = [];
    c.middlewareStack.add(
      (next, context) => async (args) => {
        seen.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );

    await c.send(new DescribeTableCommand({ TableName: 't' }));
    await c.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'k' } } }));
    expect(asked.map(bySdk)).toEqual([true, false]);
    expect(seen).toEqual(['DescribeTableCommand', 'PutItemCommand']);
  });

  it('apply to a client of a server thread only', () => {
    const { transport } = scriptedServer([]);
    expect(sendsDirectly(client(transport))).toBe(true);
    expect(sendsDirectly(dynamoClient({ endpoint: 'http://127.0.0.1:1', unsigned: true }))).toBe(
      false,
    );
    expect(sendsDirectly(new DynamoDBClient({ region: 'us-east-1' }))).toBe(false);
  });
});
