import { Logger } from '@aws-lambda-powertools/logger';
import {
  type RebuildFileInput,
  type RebuildFileOutput,
  rebuildFileHandlers,
} from '../../pipeline/aws/rebuildFiles.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';

const logger = new Logger({ serviceName: 'matchstream', persistentKeys: { consumer: 'rebuild' } });
const files = rebuildFileHandlers(process.env, { dynamo: dynamoClient(), s3: s3Client() });

/**
 * Lambda entry point of one iteration of the rebuild's Distributed Map: one data file, a part
 * of it a call, from where the call before stopped.
 */
export const handler = async (input: RebuildFileInput): Promise<RebuildFileOutput> => {
  const output = await files.file(input);
  const { progress } = output;
  logger.info(output.done ? 'export file applied' : 'export file applied in part', {
    projection: input.projection,
    generation: input.generation,
    file: progress.file,
    items: progress.items,
    of: input.file?.itemCount,
    events: progress.events,
    deferred: progress.deferred,
    unreadable: progress.unreadable,
    seconds: progress.seconds,
  });
  return output;
};
