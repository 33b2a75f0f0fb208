import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  type InboxEvent,
  type InboxResponse,
  inboxHandler,
  inboxRecordContext,
} from '../../pipeline/aws/busInbox.js';
import { required } from '../../pipeline/aws/consumers.js';
import { busEventHandler } from '../../pipeline/aws/sagas.js';
import {
  BUS_HANDLER_NAMES,
  BUS_HANDLERS,
  type BusHandlerName,
} from '../../sagas/handlers/busHandlers.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { sendMessagesReliably } from '../../stream/aws/sendMessagesReliably.js';
import { breakerObserver, handlerMetrics } from './observed.js';

const name = (process.env.BUS_HANDLER ?? '') as BusHandlerName;
if (!BUS_HANDLER_NAMES.includes(name))
  throw new Error(
    `environment variable BUS_HANDLER must be one of ${BUS_HANDLER_NAMES.join(', ')}, not "${name}"`,
  );
const inbox = required(process.env, 'INBOX_URL');
const logger = new Logger({
  serviceName: 'matchstream',
  persistentKeys: { handler: BUS_HANDLERS[name].rule },
});
const metrics = handlerMetrics(BUS_HANDLERS[name].rule);
const { held, ...breakers } = breakerObserver(metrics, logger);
const sqs = new SQSClient(clientConfig({}));
/** When the running invocation must be done (ms since the epoch). */
let deadline = 0;
const handle = inboxHandler(
  busEventHandler(name, process.env, dynamoClient(), {
    remainingMs: () => deadline - Date.now(),
    observer: breakers,
  }),
  {
    requeue: (messages) => sendMessagesReliably(sqs, inbox, messages),
    observer: {
      held(unavailable, requeued) {
        held(unavailable);
        metrics.addMetric('EventsRequeued', MetricUnit.Count, requeued);
      },
      failed(record, error) {
        logger.error('bus event not handled', {
          ...inboxRecordContext(record),
          receiveCount: record.attributes?.ApproximateReceiveCount,
          error: error instanceof Error ? error.message : String(error),
        });
      },
    },
  },
);

/**
 * Lambda entry point of one bus handler (`BUS_HANDLER`: a name of `BUS_HANDLERS`), reading
 * its rule's events from its queue (`INBOX_URL`). A failed event is reported in the partial
 * batch response and SQS delivers it again; after the queue's receive count it moves to the
 * handler's dead-letter queue. Events held by an open breaker go back on the queue, delayed.
 */
export const handler = async (
  event: InboxEvent,
  context?: { getRemainingTimeInMillis(): number },
): Promise<InboxResponse> => {
  deadline = context ? Date.now() + context.getRemainingTimeInMillis() : 0;
  try {
    return await handle(event);
  } finally {
    metrics.publishStoredMetrics();
  }
};
