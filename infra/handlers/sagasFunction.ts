import { sagaConsumerHandler } from '../../pipeline/aws/sagas.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import type { KinesisStreamEvent } from '../../stream/consumer/kinesisEvent.js';
import { observed } from './observed.js';

/** When the running invocation must be done (ms since the epoch). */
let deadline = 0;

/** Lambda entry point of the saga consumer: saga events on the stream drive their sagas. */
const consumer = observed(process.env.CONSUMER ?? 'sagas', (observer) =>
  sagaConsumerHandler(process.env, dynamoClient(), {
    remainingMs: () => deadline - Date.now(),
    observer,
  }),
);

export const handler = (
  event: KinesisStreamEvent,
  context: { getRemainingTimeInMillis(): number },
) => {
  deadline = Date.now() + context.getRemainingTimeInMillis();
  return consumer.handler(event, context);
};
