import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  LambdaClient,
  ListAliasesCommand,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { ReadModelRegistry } from '../../projections/ReadModelRegistry.js';
import { standingsProjection } from '../../projections/readModels/standings.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { runCli } from '../support/cli.js';
import { type Moto, motoAvailable, startMoto } from '../support/moto.js';
import { createMotoFunction } from '../support/motoFunction.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('projections-aws-');

const REGISTRY = 'matchstream-dev-registry';
const GENERATION_TABLE = 'matchstream-dev-rm-standings-v2-g2';

describe('matchstream projections: the flags of the deployed stack', () => {
  // Nowhere to reach: refused before any call.
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  };

  it('refuses --registry-table and --feeder without --aws, rather than changing the data folder', async () => {
    // Prepare: a data folder the commands would otherwise work on.
    const dataDir = tmp.path('folder');
    const ingested = await runCli(['teams', 'import', '-', '--data-dir', dataDir], {
      input: 'team,conference\nAlpha,East\n',
    });
    expect(ingested.code).toBe(0);
    const refused = async (args: string[]) => {
      const run = await runCli(['projections', ...args, '--data-dir', dataDir], { env });
      expect(run).toMatchObject({ code: 2, stdout: '' });
      return run.stderr;
    };

    // Act + Assess
    const line =
      'matchstream: --registry-table and --feeder name the deployed stack: add --aws (without it, the data folder is used)\n';
    expect(await refused(['list', '--registry-table', 'matchstream-prod-registry'])).toBe(line);
    expect(
      await refused([
        'activate',
        'standings',
        '--generation',
        '1',
        '--registry-table',
        'matchstream-prod-registry',
      ]),
    ).toBe(line);
    expect(await refused(['drop', 'standings', '--generation', '2', '--feeder', 'feeder'])).toBe(
      line,
    );
  }, 60_000);

  it('refuses --data-dir with --aws, rather than passing over the folder it names', async () => {
    const runs = await Promise.all(
      [
        ['list'],
        ['activate', 'standings', '--generation', '2'],
        ['drop', 'standings', '--generation', '2', '--feeder', 'feeder'],
      ].map((args) =>
        runCli(
          [
            'projections',
            ...args,
            '--aws',
            '--registry-table',
            'matchstream-prod-registry',
            '--data-dir',
            tmp.path('named'),
          ],
          { env },
        ),
      ),
    );

    for (const run of runs) {
      expect(run).toMatchObject({
        code: 2,
        stdout: '',
        stderr:
          "matchstream: option '--aws' cannot be used with option '--data-dir <dir>' (run with --help for usage)\n",
      });
    }
  });
});

// The deployed registry and a generation a rebuild made (its table, the feeder's alias for it
// and the alias's mapping), on moto_server, looked at and managed through the command line.
describe.runIf(motoAvailable())('matchstream projections --aws on moto_server', () => {
  let moto: Moto;
  let dynamo: DynamoDBClient;
  let lambda: LambdaClient;
  let env: Record<string, string>;
  let registry: ReadModelRegistry;
  const aws = () => ['--aws', '--registry-table', REGISTRY];

  beforeAll(async () => {
    moto = await startMoto();
    dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    lambda = new LambdaClient(clientConfig({ endpoint: moto.endpoint }));
    env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: moto.endpoint,
    };
    registry = new ReadModelRegistry(
      await DynamoDocumentStore.open(dynamo, REGISTRY),
      () => 'matchstream-dev-ReadModelsstandings',
    );
    await DynamoDocumentStore.open(dynamo, GENERATION_TABLE);
    await registry.ensure(standingsProjection);
    await registry.building(standingsProjection, () => GENERATION_TABLE);
    await registry.markBuilt(standingsProjection, 2, true);
    // The feeder, its alias and mapping for g2.
    await createMotoFunction(moto.endpoint, lambda, 'feeder');
    const alias = await lambda.send(
      new CreateAliasCommand({
        FunctionName: 'feeder',
        Name: 'standings-g2',
        FunctionVersion: '$LATEST',
      }),
    );
    const kinesis = new KinesisClient(clientConfig({ endpoint: moto.endpoint }));
    await kinesis.send(new CreateStreamCommand({ StreamName: 'changes', ShardCount: 1 }));
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: 'changes' }),
    );
    kinesis.destroy();
    await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: alias.AliasArn,
        EventSourceArn: StreamDescriptionSummary?.StreamARN,
        StartingPosition: 'TRIM_HORIZON',
      }),
    );
  }, 60_000);

  afterAll(async () => {
    dynamo?.destroy();
    lambda?.destroy();
    await moto?.stop();
  });

  it('lists the deployed generations, switches back, and drops a rebuilt generation whole', async () => {
    // Act + Assess: the list, as the registry has it.
    const listed = await runCli(['projections', 'list', ...aws(), '--json'], { env });
    expect(listed.code).toBe(0);
    const standings = JSON.parse(listed.stdout).find(
      (m: { name: string }) => m.name === 'standings',
    );
    expect(standings).toMatchObject({
      active: 2,
      generations: [
        { generation: 1, table: 'matchstream-dev-ReadModelsstandings', status: 'live' },
        { generation: 2, table: GENERATION_TABLE, status: 'live' },
      ],
    });

    // The active generation is never dropped; the first is the stack's.
    const active = await runCli(
      ['projections', 'drop', 'standings', '--generation', '2', ...aws(), '--feeder', 'feeder'],
      { env },
    );
    expect(active.code).toBe(1);
    expect(active.stderr).toContain('is the active one; activate another first');
    const first = await runCli(
      ['projections', 'drop', 'standings', '--generation', '1', ...aws(), '--feeder', 'feeder'],
      { env },
    );
    expect(first).toMatchObject({ code: 2 });
    expect(first.stderr).toContain("the stack's own table");

    // Switch back, then drop generation 2: mapping, alias, table, and the registry says so.
    const back = await runCli(
      ['projections', 'activate', 'standings', '--generation', '1', ...aws()],
      {
        env,
      },
    );
    expect(back).toMatchObject({ code: 0, stdout: 'standings: generation 1 is active\n' });
    const dropped = await runCli(
      ['projections', 'drop', 'standings', '--generation', '2', ...aws(), '--feeder', 'feeder'],
      { env },
    );
    expect(dropped.stderr).toBe('');
    expect(dropped.stdout).toBe(
      `standings: generation 2 dropped (1 event source mapping and the alias removed, table ${GENERATION_TABLE} deleted)\n`,
    );
    expect((await lambda.send(new ListAliasesCommand({ FunctionName: 'feeder' }))).Aliases).toEqual(
      [],
    );
    expect(
      (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'feeder' })))
        .EventSourceMappings ?? [],
    ).toEqual([]);
    await expect(
      dynamo.send(new DescribeTableCommand({ TableName: GENERATION_TABLE })),
    ).rejects.toThrow(/not found|ResourceNotFound/i);
    const entry = await registry.entry(standingsProjection);
    expect(entry).toMatchObject({ active: 1 });
    expect(entry.generations.find((g) => g.generation === 2)?.status).toBe('dropped');

    // Run again: nothing left, said so, no error.
    const again = await runCli(
      ['projections', 'drop', 'standings', '--generation', '2', ...aws(), '--feeder', 'feeder'],
      { env },
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 event source mappings and no alias removed');
  }, 120_000);

  it('drops nothing when --feeder names no function, so a mistyped feeder never leaves a mapping feeding a deleted table', async () => {
    // Prepare: generation 3, built and inactive, its table there.
    const table = 'matchstream-dev-rm-standings-v2-g3';
    await DynamoDocumentStore.open(dynamo, table);
    await registry.building(standingsProjection, () => table);
    await registry.markBuilt(standingsProjection, 3, false);

    // Act: GetAlias answers ResourceNotFoundException for a function that does not exist as
    // for an alias that does not (Lambda API reference, GetAlias: "The resource specified in
    // the request does not exist"), so the feeder itself must be found first.
    const run = await runCli(
      [
        'projections',
        'drop',
        'standings',
        '--generation',
        '3',
        ...aws(),
        '--feeder',
        'feeder-typo',
      ],
      { env },
    );

    // Assess: one line, exit 1, and the generation, its table and the registry as they were.
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'matchstream: no function feeder-typo in us-east-1: give the stack output GenerationFeeder with --feeder (and its region with AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config); nothing was dropped\n',
    });
    await expect(dynamo.send(new DescribeTableCommand({ TableName: table }))).resolves.toBeTruthy();
    expect((await registry.generation(standingsProjection, 3))?.status).toBe('live');
  }, 60_000);

  it('names a registry table that is not there, in one line, for each command', async () => {
    // DescribeTable answers ResourceNotFoundException for a table that does not exist
    // (DynamoDB API reference, DescribeTable), which the SDK words "Requested resource not
    // found": the command says which table, and where it comes from.
    const line =
      'matchstream: no table "matchstream-dev-registr" in us-east-1: give the RegistryTable output of the deployed stack with --registry-table (and its region with AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config)\n';
    const missing = ['--aws', '--registry-table', 'matchstream-dev-registr'];
    for (const args of [
      ['list', ...missing],
      ['activate', 'standings', '--generation', '1', ...missing],
      ['drop', 'standings', '--generation', '2', ...missing, '--feeder', 'feeder'],
    ])
      expect(await runCli(['projections', ...args], { env })).toMatchObject({
        code: 1,
        stdout: '',
        stderr: line,
      });
  }, 60_000);

  it('needs the registry with --aws, and the feeder to drop', async () => {
    const noRegistry = await runCli(['projections', 'list', '--aws'], { env });
    expect(noRegistry).toMatchObject({
      code: 2,
      stderr:
        'matchstream: with --aws, name the registry: --registry-table <the stack output RegistryTable>\n',
    });
    const noFeeder = await runCli(
      ['projections', 'drop', 'standings', '--generation', '3', ...aws()],
      {
        env,
      },
    );
    expect(noFeeder).toMatchObject({
      code: 2,
      stderr:
        'matchstream: projections drop --aws needs --feeder <the stack output GenerationFeeder>\n',
    });
  }, 60_000);
});
