import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  KinesisClient,
  KinesisServiceException,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { describe, expect, it } from 'vitest';
import { injectFaults } from '../../../chaos/faultInjection.js';
import type { TransportRequest, TransportResponse } from '../../../stream/aws/clientConfig.js';
import { sendsDirectly, sendThroughSdk } from '../../../stream/aws/directJson.js';
import { sendDirectly } from '../../../stream/aws/directKinesis.js';
import { kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { answerOk, bySdk, scriptedServer } from '../../support/scriptedTransport.js';

/** As kinesalite answers an error: `__type` without a namespace, `message`. */
const refused = (status: number, type: string) => () => ({
  status,
  headers: {},
  body: JSON.stringify({ __type: type, message: 'said so' }),
});

function client(
  transport: (r: TransportRequest) => Promise<TransportResponse>,
  timeoutMs?: number,
) {
  const c = kinesisClient({
    endpoint: 'http://127.0.0.1:1',
    unsigned: true,
    transport,
    retryStrategy: new ConfiguredRetryStrategy(3, 1),
  });
  return timeoutMs === undefined ? c : sendDirectly(c, transport, { answerTimeoutMs: timeoutMs });
}

/** A request's JSON, parsed (the SDK's body is bytes, the direct one a string). */
const body = (r: TransportRequest | undefined) =>
  JSON.parse(typeof r?.body === 'string' ? r.body : new TextDecoder().decode(r?.body));

/** An output without its `$metadata`, which the SDK's gives more members (all undefined). */
const withoutMetadata = (output: { $metadata: object } | undefined) => {
  const { $metadata, ...rest } = output ?? { $metadata: {} };
  return rest;
};

const ITERATOR = 'AAAAAAAAAAE=';

describe('the change stream’s writes and reads handed to a server thread directly', () => {
  it('send the JSON the SDK sends: bytes as base64, a time as epoch seconds', async () => {
    const commands = () => [
      new PutRecordsCommand({
        StreamName: 's',
        Records: [
          { Data: new Uint8Array([1, 2, 255]), PartitionKey: 'a' },
          { Data: Buffer.from('hi'), PartitionKey: 'b', ExplicitHashKey: '7' },
          { Data: new Uint8Array(), PartitionKey: 'c' },
        ],
      }),
      new PutRecordCommand({
        StreamName: 's',
        Data: new Uint8Array([0, 9]),
        PartitionKey: 'k',
        SequenceNumberForOrdering: '12',
      }),
      new GetShardIteratorCommand({
        StreamName: 's',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: new Date(1_700_000_000_123),
      }),
      new GetShardIteratorCommand({
        StreamName: 's',
        ShardId: 'shardId-000000000001',
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        StartingSequenceNumber: '4960',
      }),
      new GetRecordsCommand({ ShardIterator: ITERATOR, Limit: 10 }),
    ];
    const answers = () => [answerOk({}), answerOk({}), answerOk({}), answerOk({}), answerOk({})];
    const direct = scriptedServer(answers());
    const sdk = scriptedServer(answers());
    const c = client(direct.transport);
    const s = sendThroughSdk(client(sdk.transport));
    const sent = commands();
    const before = JSON.stringify(sent.map((command) => command.input));
    for (const command of sent) await c.send(command as never);
    for (const command of commands()) await s.send(command as never);

    expect(direct.asked.map(bySdk)).toEqual([false, false, false, false, false]);
    expect(sdk.asked.map(bySdk)).toEqual([true, true, true, true, true]);
    expect(direct.asked.map(body)).toEqual(sdk.asked.map(body));
    expect(body(direct.asked[0]).Records.map((r: { Data: string }) => r.Data)).toEqual([
      'AQL/',
      'aGk=',
      '',
    ]);
    expect(body(direct.asked[2]).Timestamp).toBe(1_700_000_000.123);
    expect(JSON.stringify(sent.map((command) => command.input))).toBe(before);
    for (const [i, request] of direct.asked.entries()) {
      expect(request.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(request.headers['x-amz-target']).toBe(sdk.asked[i]?.headers['x-amz-target']);
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=.*Signature=/);
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    }
    expect(direct.asked[0]?.headers['x-amz-target']).toBe('Kinesis_20131202.PutRecords');
  });

  it("give the SDK's output: Data as bytes, arrival times as Dates, the rest as answered", async () => {
    const answered = {
      MillisBehindLatest: 1500,
      NextShardIterator: 'next',
      Records: [
        {
          SequenceNumber: '49600000000000000000000000000000000000000000000000000001',
          ApproximateArrivalTimestamp: 1_700_000_000.123,
          Data: 'AQL/',
          PartitionKey: 'a',
        },
        // Times whose milliseconds do not come out whole when multiplied back.
        {
          SequenceNumber: '2',
          ApproximateArrivalTimestamp: 1_765_432_109.999,
          Data: '',
          PartitionKey: 'b',
        },
        {
          SequenceNumber: '3',
          ApproximateArrivalTimestamp: 1_700_000_000.0005,
          Data: 'aGk=',
          PartitionKey: 'c',
        },
      ],
    };
    const put = {
      FailedRecordCount: 0,
      Records: [{ ShardId: 'shardId-000000000000', SequenceNumber: '5' }],
    };
    const answers = () => [
      answerOk(answered),
      answerOk(put),
      answerOk({ ShardIterator: ITERATOR }),
    ];
    const direct = scriptedServer(answers());
    const sdk = scriptedServer(answers());
    const ask = async (c: KinesisClient) => [
      await c.send(new GetRecordsCommand({ ShardIterator: ITERATOR })),
      await c.send(
        new PutRecordsCommand({
          StreamName: 's',
          Records: [{ Data: new Uint8Array([1]), PartitionKey: 'a' }],
        }),
      ),
      await c.send(
        new GetShardIteratorCommand({
          StreamName: 's',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'LATEST',
        }),
      ),
    ];
    const [got, ...rest] = await ask(client(direct.transport));
    const expected = await ask(sendThroughSdk(client(sdk.transport)));

    expect(direct.asked.map(bySdk)).toEqual([false, false, false]);
    expect([got, ...rest].map(withoutMetadata)).toEqual(expected.map(withoutMetadata));
    const records = (got as { Records: { Data: Uint8Array; ApproximateArrivalTimestamp: Date }[] })
      .Records;
    expect(records[0]?.Data).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(records[0]?.Data)).toBe(false);
    expect([...(records[0]?.Data ?? [])]).toEqual([1, 2, 255]);
    expect(records[0]?.ApproximateArrivalTimestamp).toEqual(new Date(1_700_000_000_123));
    expect(records.map((r) => r.ApproximateArrivalTimestamp.getTime())).toEqual(
      (
        expected[0] as typeof got & { Records: { ApproximateArrivalTimestamp: Date }[] }
      ).Records.map((r) => r.ApproximateArrivalTimestamp.getTime()),
    );
    expect(got?.$metadata).toEqual({
      httpStatusCode: 200,
      requestId: 'r-1',
      attempts: 1,
      totalRetryDelay: 0,
    });
  });

  it("raise the client's own exception for an error answer", async () => {
    const { asked, transport } = scriptedServer([
      refused(400, 'ExpiredIteratorException'),
      refused(400, 'ResourceNotFoundException'),
      refused(400, 'InvalidArgumentException'),
      refused(400, 'SomethingNew'),
    ]);
    const c = client(transport);
    const get = () =>
      c.send(new GetRecordsCommand({ ShardIterator: ITERATOR })).catch((e: unknown) => e);

    const expired = await get();
    expect(expired).toBeInstanceOf(ExpiredIteratorException);
    expect(expired).toMatchObject({
      name: 'ExpiredIteratorException',
      message: 'said so',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(await get()).toBeInstanceOf(ResourceNotFoundException);
    expect(await get()).toBeInstanceOf(InvalidArgumentException);
    const unknown = await get();
    expect(unknown).toBeInstanceOf(KinesisServiceException);
    expect(unknown).toMatchObject({ name: 'SomethingNew', message: 'said so' });
    expect(asked.map(bySdk)).toEqual([false, false, false, false]);
  });

  it("leave throttling, server errors and a transport's failure to the SDK, which retries them", async () => {
    const put = (n: string) =>
      answerOk({
        FailedRecordCount: 0,
        Records: [{ ShardId: 'shardId-000000000000', SequenceNumber: n }],
      });
    const { asked, transport } = scriptedServer([
      refused(400, 'ProvisionedThroughputExceededException'),
      put('1'),
      refused(400, 'LimitExceededException'),
      put('2'),
      refused(500, 'InternalFailure'),
      put('3'),
      () => {
        throw new Error('thread busy');
      },
      put('4'),
    ]);
    const c = client(transport);
    const send = async () =>
      (
        await c.send(
          new PutRecordsCommand({
            StreamName: 's',
            Records: [{ Data: new Uint8Array([1]), PartitionKey: 'a' }],
          }),
        )
      ).Records?.[0]?.SequenceNumber;

    expect([await send(), await send(), await send(), await send()]).toEqual(['1', '2', '3', '4']);
    expect(asked.map(bySdk)).toEqual([false, true, false, true, false, true, false, true]);
  });

  it('leave a request with no answer in time to the SDK', async () => {
    const { asked, transport } = scriptedServer([
      () => new Promise<never>(() => {}),
      answerOk({ ShardIterator: 'late' }),
    ]);
    const output = await client(transport, 50).send(
      new GetShardIteratorCommand({
        StreamName: 's',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'LATEST',
      }),
    );
    expect(output.ShardIterator).toBe('late');
    expect(asked.map(bySdk)).toEqual([false, true]);
  });

  it('send other operations the SDK way, and keep the middleware before it', async () => {
    const { asked, transport } = scriptedServer([
      answerOk({ Shards: [] }),
      answerOk({ ShardIterator: ITERATOR }),
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

    await c.send(new ListShardsCommand({ StreamName: 's' }));
    await c.send(
      new GetShardIteratorCommand({
        StreamName: 's',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'LATEST',
      }),
    );
    expect(asked.map(bySdk)).toEqual([true, false]);
    expect(seen).toEqual(['ListShardsCommand', 'GetShardIteratorCommand']);
  });

  it("apply to a client of a server thread only, and come off for the chaos suite's faults", async () => {
    const { asked, transport } = scriptedServer([answerOk({ ShardIterator: 'a' })]);
    const c = client(transport);
    expect(sendsDirectly(c)).toBe(true);
    expect(sendsDirectly(kinesisClient({ endpoint: 'http://127.0.0.1:1', unsigned: true }))).toBe(
      false,
    );
    expect(sendsDirectly(new KinesisClient({ region: 'us-east-1' }))).toBe(false);

    // The faults sit inside the SDK's retries (step `deserialize`): with the requests still
    // handed over directly they would never fire. One throttle first, then none.
    const counts = injectFaults(c, { throttle: 0.5, eachKindFirst: true }, () => 0.99);
    expect(sendsDirectly(c)).toBe(false);
    const output = await c.send(
      new GetShardIteratorCommand({
        StreamName: 's',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'LATEST',
      }),
    );
    expect(counts.throttle).toBe(1);
    expect(output.ShardIterator).toBe('a');
    expect(asked.map(bySdk)).toEqual([true]);
  });
});
