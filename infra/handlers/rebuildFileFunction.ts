import { Logger } from '@aws-lambda-powertools/logger';
import type { ExportFileResult } from '../../pipeline/archiveReplay.js';
import { type RebuildFileInput, rebuildFileHandlers } from '../../pipeline/aws/rebuildFiles.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';

const logger = new Logger({ serviceName: 'matchstream', persistentKeys: { consumer: 'rebuild' } });
const files = rebuildFileHandlers(process.env, { dynamo: dynamoClient(), s3: s3Client() });

/** Lambda entry point of one iteration of the rebuild's Distributed Map: one data file. */
export const handler = async (input: RebuildFileInput): Promise<ExportFileResult> => {
  const result = await files.file(input);
  logger.info('export file applied', {
    projection: input.projection,
    generation: input.generation,
    file: result.file,
    items: result.items,
    events: result.events,
    deferred: result.deferred.length,
    unreadable: result.unreadable,
    seconds: result.seconds,
  });
  return result;
};
