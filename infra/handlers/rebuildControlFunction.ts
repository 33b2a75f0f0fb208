import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  type RebuildControlInput,
  type RebuildRun,
  rebuildControl,
} from '../../pipeline/aws/rebuildControl.js';
import type { SegmentComparison } from '../../pipeline/compareTables.js';
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

/**
 * Lambda entry point of the rebuild state machine's steps, and of its comparison map's
 * iterations (`rebuildControl`).
 */
export const handler = async (
  input: RebuildControlInput,
): Promise<RebuildRun | SegmentComparison> => {
  const started = Date.now();
  const about =
    input.action === 'compareSegment'
      ? {
          pass: input.segment?.pass,
          segment: input.segment?.segment,
          table: input.segment?.pass === 'live' ? input.segment?.live : input.segment?.rebuilt,
        }
      : { execution: input.run?.execution, projection: input.run?.projection };
  try {
    const out = await control(input);
    logger.info('rebuild step', {
      action: input.action,
      ...about,
      ...('scanned' in out ? { scanned: out.scanned, done: out.done } : {}),
      ...('deferring' in out && out.deferring && input.action === 'deferred'
        ? { streams: out.deferring.streams, next: out.deferring.next }
        : {}),
      ms: Date.now() - started,
    });
    return out;
  } catch (error) {
    logger.error('rebuild step failed', {
      action: input.action,
      ...about,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
};
