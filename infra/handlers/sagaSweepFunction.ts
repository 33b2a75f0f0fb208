import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { sagaSweepHandler } from '../../pipeline/aws/sagas.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { handlerMetrics, sagaMetric } from './observed.js';

const logger = new Logger({
  serviceName: 'matchstream',
  persistentKeys: { consumer: 'saga-sweep' },
});
// Saga metrics are counted under one name, whichever function drove the saga.
const metrics = handlerMetrics('sagas');
let deadline = 0;

const sweep = sagaSweepHandler(process.env, dynamoClient(), {
  remainingMs: () => deadline - Date.now(),
  observer: {
    sagaEvent: (sagaId, eventType) => sagaMetric(metrics, logger, sagaId, eventType),
    error: (error) => logger.error('saga coordinator failed', { error: error.message }),
  },
});

/**
 * Lambda entry point of the saga sweep (every minute): drives the sagas that wait longer than
 * the saga consumer sleeps, and those whose step timed out in a function that died.
 */
export const handler = async (
  _event: unknown,
  context: { getRemainingTimeInMillis(): number },
): Promise<{ driven: number }> => {
  deadline = Date.now() + context.getRemainingTimeInMillis();
  try {
    const result = await sweep();
    metrics.addMetric('SagasSwept', MetricUnit.Count, result.driven);
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
};
