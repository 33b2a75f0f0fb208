import { Logger } from '@aws-lambda-powertools/logger';
import { busEventHandler } from '../../pipeline/aws/sagas.js';
import {
  BUS_HANDLER_NAMES,
  BUS_HANDLERS,
  type BusHandlerName,
} from '../../sagas/handlers/busHandlers.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { breakerObserver, handlerMetrics } from './observed.js';

const name = (process.env.BUS_HANDLER ?? '') as BusHandlerName;
if (!BUS_HANDLER_NAMES.includes(name))
  throw new Error(
    `environment variable BUS_HANDLER must be one of ${BUS_HANDLER_NAMES.join(', ')}, not "${name}"`,
  );
const logger = new Logger({
  serviceName: 'matchstream',
  persistentKeys: { handler: BUS_HANDLERS[name].rule },
});
const metrics = handlerMetrics(BUS_HANDLERS[name].rule);
/** When the running invocation must be done (ms since the epoch). */
let deadline = 0;
const handle = busEventHandler(name, process.env, dynamoClient(), {
  remainingMs: () => deadline - Date.now(),
  observer: breakerObserver(metrics, logger),
});

/**
 * Lambda entry point of one bus handler (`BUS_HANDLER`: a name of `BUS_HANDLERS`), the
 * target of its rule. A failure is logged and thrown: Lambda retries the asynchronous
 * invocation, then sends the event to the handler's dead-letter queue.
 */
export const handler = async (
  event: BusEvent,
  context?: { getRemainingTimeInMillis(): number },
): Promise<void> => {
  deadline = context ? Date.now() + context.getRemainingTimeInMillis() : 0;
  try {
    await handle(event);
  } catch (error) {
    logger.error('bus event not handled', {
      id: event.id,
      detailType: event['detail-type'],
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
};
