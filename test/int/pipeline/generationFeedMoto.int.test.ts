import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  type DeleteEventSourceMappingCommandInput,
  type EventSourceMappingConfiguration,
  GetAliasCommand,
  type GetEventSourceMappingCommandInput,
  type GetEventSourceMappingCommandOutput,
  LambdaClient,
  ListEventSourceMappingsCommand,
  type ListEventSourceMappingsCommandInput,
  type ListEventSourceMappingsCommandOutput,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MappingsNotGoneError, removeGenerationFeed } from '../../../pipeline/aws/generations.js';
import { clientConfig } from '../../../stream/aws/clientConfig.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { createMotoFunction } from '../../support/motoFunction.js';

/**
 * A Lambda client on moto_server with what moto does not do and Lambda does, added in its
 * middleware: the list of mappings comes a page at a time (NextMarker), and a deleted mapping
 * stays `Deleting` (Lambda API reference, DeleteEventSourceMapping) until `looksUntilGone`
 * GetEventSourceMapping calls have seen it, when moto deletes it.
 */
function lambdaLikeAws(endpoint: string, plain: LambdaClient, looksUntilGone: number) {
  const lambda = new LambdaClient(clientConfig({ endpoint }));
  const deleting = new Map<string, number>();
  const asDeleting = <T extends EventSourceMappingConfiguration>(m: T): T =>
    m.UUID && deleting.has(m.UUID) ? { ...m, State: 'Deleting' } : m;
  lambda.middlewareStack.add(
    (next, context) => async (args) => {
      switch (context.commandName) {
        case 'ListEventSourceMappingsCommand': {
          const { Marker, MaxItems: _, ...all } = args.input as ListEventSourceMappingsCommandInput;
          const result = await next({ ...args, input: all });
          const output = result.output as ListEventSourceMappingsCommandOutput;
          const mappings = output.EventSourceMappings ?? [];
          const from = Number(Marker ?? 0);
          const page: ListEventSourceMappingsCommandOutput = {
            $metadata: output.$metadata,
            EventSourceMappings: mappings.slice(from, from + 1).map(asDeleting),
            ...(from + 1 < mappings.length ? { NextMarker: String(from + 1) } : {}),
          };
          return { ...result, output: page };
        }
        case 'DeleteEventSourceMappingCommand': {
          const { UUID } = args.input as DeleteEventSourceMappingCommandInput;
          if (!UUID) return next(args);
          deleting.set(UUID, looksUntilGone);
          const output = { $metadata: {}, UUID, State: 'Deleting' };
          return { output, response: {} } as unknown as Awaited<ReturnType<typeof next>>;
        }
        case 'GetEventSourceMappingCommand': {
          const { UUID } = args.input as GetEventSourceMappingCommandInput;
          const looks = UUID ? deleting.get(UUID) : undefined;
          if (UUID && looks !== undefined) {
            if (looks <= 0) {
              deleting.delete(UUID);
              await plain.send(new DeleteEventSourceMappingCommand({ UUID }));
            } else deleting.set(UUID, looks - 1);
          }
          const result = await next(args);
          return {
            ...result,
            output: asDeleting(result.output as GetEventSourceMappingCommandOutput),
          };
        }
        default:
          return next(args);
      }
    },
    { step: 'initialize', name: 'lambdaLikeAws' },
  );
  return lambda;
}

describe.runIf(motoAvailable())('removeGenerationFeed on moto_server', () => {
  let moto: Moto;
  let plain: LambdaClient;
  const streams: string[] = [];

  /** Generation `generation` of standings fed from both streams: its alias and two mappings. */
  async function fedGeneration(generation: number): Promise<string> {
    const alias = await plain.send(
      new CreateAliasCommand({
        FunctionName: 'feeder',
        Name: `standings-g${generation}`,
        FunctionVersion: '$LATEST',
      }),
    );
    for (const stream of streams)
      await plain.send(
        new CreateEventSourceMappingCommand({
          FunctionName: alias.AliasArn,
          EventSourceArn: stream,
          StartingPosition: 'TRIM_HORIZON',
        }),
      );
    return alias.AliasArn as string;
  }

  const mappingsOf = async (aliasArn: string) =>
    (await plain.send(new ListEventSourceMappingsCommand({ FunctionName: aliasArn })))
      .EventSourceMappings ?? [];

  beforeAll(async () => {
    moto = await startMoto();
    plain = new LambdaClient(clientConfig({ endpoint: moto.endpoint }));
    await createMotoFunction(moto.endpoint, plain, 'feeder');
    const kinesis = new KinesisClient(clientConfig({ endpoint: moto.endpoint }));
    for (const name of ['changes', 'changes-2']) {
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
      const { StreamDescriptionSummary } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: name }),
      );
      streams.push(StreamDescriptionSummary?.StreamARN as string);
    }
    kinesis.destroy();
  }, 60_000);

  afterAll(async () => {
    plain?.destroy();
    await moto?.stop();
  });

  it('deletes the mappings of every page and returns once they are gone, then the alias', async () => {
    // Prepare: two mappings, listed a page each, each Deleting for two looks.
    const aliasArn = await fedGeneration(2);
    expect(await mappingsOf(aliasArn)).toHaveLength(2);
    const lambda = lambdaLikeAws(moto.endpoint, plain, 2);

    // Act
    const removed = await removeGenerationFeed(lambda, 'feeder', 'standings', 2, {
      timeoutMs: 10_000,
      pollMs: 50,
    });

    // Assess: both gone before it returned, and the alias after them.
    expect(removed).toEqual({ mappings: 2, alias: true });
    expect(await mappingsOf(aliasArn)).toEqual([]);
    await expect(
      plain.send(new GetAliasCommand({ FunctionName: 'feeder', Name: 'standings-g2' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    lambda.destroy();
  }, 60_000);

  it('says which mappings are still there when they do not go within the wait, and keeps the alias', async () => {
    // Prepare: mappings that stay Deleting.
    const aliasArn = await fedGeneration(3);
    const lambda = lambdaLikeAws(moto.endpoint, plain, Number.POSITIVE_INFINITY);

    // Act
    const removal = removeGenerationFeed(lambda, 'feeder', 'standings', 3, {
      timeoutMs: 300,
      pollMs: 50,
    });

    // Assess
    await expect(removal).rejects.toBeInstanceOf(MappingsNotGoneError);
    await expect(removal).rejects.toThrow(
      /^the event source mappings \S+ \(Deleting\), \S+ \(Deleting\) of feeder:standings-g3 are still there 0 s after being deleted; the alias and the generation's table are kept: run "matchstream projections drop" again once they are gone/,
    );
    expect(await mappingsOf(aliasArn)).toHaveLength(2);
    expect(
      (await plain.send(new GetAliasCommand({ FunctionName: 'feeder', Name: 'standings-g3' })))
        .AliasArn,
    ).toBe(aliasArn);
    lambda.destroy();
  }, 60_000);
});
