import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  type RebuildControlInput,
  type RebuildRun,
  rebuildControl,
} from '../../pipeline/aws/rebuildControl.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';

const logger = new Logger({ serviceName: 'matchstream', persistentKeys: { consumer: 'rebuild' } });
const control = rebuildControl(process.env, {
  dynamo: dynamoClient(),
  s3: s3Client(),
  lambda: new LambdaClient(clientConfig({})),
  cloudWatch: new CloudWatchClient(clientConfig({})),
});

/** Lambda entry point of the rebuild state machine's steps (`rebuildControl`). */
export const handler = async (input: RebuildControlInput): Promise<RebuildRun> => {
  const started = Date.now();
  try {
    const run = await control(input);
    logger.info('rebuild step', {
      action: input.action,
      execution: input.run?.execution,
      projection: input.run?.projection,
      ms: Date.now() - started,
    });
    return run;
  } catch (error) {
    logger.error('rebuild step failed', {
      action: input.action,
      execution: input.run?.execution,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
};
