import { Logger } from '@aws-lambda-powertools/logger';
import { type BusHandlerName, busEventHandler } from '../../pipeline/aws/sagas.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';

const name = (process.env.BUS_HANDLER ?? '') as BusHandlerName;
if (!['match', 'metadata', 'calculation'].includes(name))
  throw new Error(
    `environment variable BUS_HANDLER must be match, metadata or calculation, not "${name}"`,
  );
const logger = new Logger({
  serviceName: 'matchstream',
  persistentKeys: { handler: `${name}-event-handler` },
});
const handle = busEventHandler(name, process.env, dynamoClient());

/**
 * Lambda entry point of one bus handler (`BUS_HANDLER`: match, metadata or calculation), the
 * target of its rule. A failure is logged and thrown: Lambda retries the asynchronous
 * invocation, then sends the event to the handler's dead-letter queue.
 */
export const handler = async (event: BusEvent): Promise<void> => {
  try {
    await handle(event);
  } catch (error) {
    logger.error('bus event not handled', {
      id: event.id,
      detailType: event['detail-type'],
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
};
