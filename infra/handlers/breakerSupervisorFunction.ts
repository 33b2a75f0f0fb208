import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { required } from '../../pipeline/aws/consumers.js';
import { handlerMappings, superviseHandlers } from '../../pipeline/aws/handlerSupervisor.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { DynamoBreakerStateStore } from '../../stream/breaker/BreakerStateStore.js';
import { handlerMetrics } from './observed.js';

const logger = new Logger({
  serviceName: 'matchstream',
  persistentKeys: { handler: 'breaker-supervisor' },
});
const metrics = handlerMetrics('breaker-supervisor');
const table = required(process.env, 'BREAKERS_TABLE');
const mappings = handlerMappings(process.env.HANDLER_MAPPINGS);
const dynamo = dynamoClient();
const lambda = new LambdaClient(clientConfig({}));
const breakers = new DynamoBreakerStateStore(dynamo, table);

/**
 * Lambda entry point of the breaker supervisor, run on a schedule: pauses the event source
 * mapping of a bus handler whose breakers are open, and resumes it when they allow a trial
 * (`HANDLER_MAPPINGS`: rule name → mapping UUID; `BREAKERS_TABLE`).
 */
export const handler = async (): Promise<void> => {
  try {
    const actions = await superviseHandlers({ lambda, dynamo, table, breakers, mappings });
    for (const a of actions) {
      if (a.action === 'paused' || a.action === 'resumed') {
        const single = metrics.singleMetric();
        single.addDimension('handler', a.owner);
        single.addMetric(
          a.action === 'paused' ? 'HandlerPaused' : 'HandlerResumed',
          MetricUnit.Count,
          1,
        );
        logger.warn(
          `bus handler ${a.action}: its circuit breakers ${a.action === 'paused' ? 'are open' : 'allow a trial'}`,
          {
            owner: a.owner,
            mapping: a.mapping,
            ...(a.until ? { until: new Date(a.until).toISOString() } : {}),
          },
        );
      } else if (a.action === 'left')
        logger.info('bus handler mapping disabled by someone else: left alone', {
          owner: a.owner,
          mapping: a.mapping,
        });
    }
  } finally {
    metrics.publishStoredMetrics();
  }
};
