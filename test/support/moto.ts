// moto_server for tests: the same starter the chaos suite uses.
export * from '../../chaos/moto.js';

/**
 * What a user's shell would have for commands run against moto as if against AWS: test
 * credentials, a region, and moto's address for DynamoDB and S3.
 */
export function motoShellEnv(endpoint: string): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
  };
}
