import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { clientConfig } from '../../../stream/aws/clientConfig.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('client-region-');
const saved = { ...process.env };

afterEach(() => {
  for (const name of ['AWS_REGION', 'AWS_CONFIG_FILE', 'AWS_PROFILE'])
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
});

/** The region a client of the project's configuration resolves, or the SDK's error. */
async function regionOf(options: Parameters<typeof clientConfig>[0]): Promise<string> {
  const client = new DynamoDBClient(clientConfig(options));
  try {
    return await client.config.region();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  } finally {
    client.destroy();
  }
}

// The SDK picks no region of its own: AWS_REGION, else the profile's region in the shared
// config file ("Set the AWS Region", AWS SDK for JavaScript v3 developer guide).
describe('the region of an AWS client', () => {
  const config = tmp.file(
    'config',
    '[default]\nregion = eu-west-3\n\n[profile other]\nregion = ap-south-1\n',
  );

  it("takes the shared config file's region when AWS_REGION is not set, of AWS_PROFILE's profile", async () => {
    delete process.env.AWS_REGION;
    process.env.AWS_CONFIG_FILE = config;
    delete process.env.AWS_PROFILE;
    expect(await regionOf({})).toBe('eu-west-3');
    process.env.AWS_PROFILE = 'other';
    expect(await regionOf({})).toBe('ap-south-1');
  });

  it('takes AWS_REGION before the shared config file, and the region given before both', async () => {
    process.env.AWS_REGION = 'us-west-2';
    process.env.AWS_CONFIG_FILE = config;
    expect(await regionOf({})).toBe('us-west-2');
    expect(await regionOf({ region: 'sa-east-1' })).toBe('sa-east-1');
  });

  it('has none where nothing names one (AWS_REGION set to nothing names none), and any for a local endpoint', async () => {
    process.env.AWS_REGION = '';
    process.env.AWS_CONFIG_FILE = tmp.path('no-config');
    expect(await regionOf({})).toBe('error: Region is missing');
    expect(await regionOf({ endpoint: 'http://127.0.0.1:1' })).toBe('us-east-1');
  });
});
