import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisHandler } from '../../pipeline/aws/consumers.js';
import type { SagaObserver } from '../../pipeline/aws/sagas.js';
import type { KinesisStreamEvent } from '../../stream/consumer/kinesisEvent.js';

/** Saga events counted as metrics (`SagasCompleted`, ... in the namespace `matchstream`). */
export const SAGA_METRICS: Readonly<Record<string, string>> = {
  SagaCompleted: 'SagasCompleted',
  SagaCompensated: 'SagasCompensated',
  SagaStepFailed: 'SagaStepsFailed',
  SagaCompensationFailed: 'SagaCompensationsFailed',
};

/**
 * The metrics of one function, every datum carrying `service` and `consumer`. Default
 * dimensions, since Powertools clears those added with `addDimension` at every publish: a
 * dimension added once at module scope would be gone from every invocation after a container's
 * first (https://docs.aws.amazon.com/powertools/typescript/latest/features/metrics/, "Adding
 * default dimensions"; `MetricsInterface.addDimension`: "When calling the
 * publishStoredMetrics() method, the dimensions are cleared").
 */
export function handlerMetrics(consumer: string): Metrics {
  return new Metrics({
    namespace: 'matchstream',
    serviceName: 'matchstream',
    defaultDimensions: { consumer },
  });
}

/** Counts a saga event the coordinator appended; compensations are logged as warnings. */
export function sagaMetric(
  metrics: Metrics,
  logger: Logger,
  sagaId: string,
  eventType: string,
): void {
  const metric = SAGA_METRICS[eventType];
  if (metric) metrics.addMetric(metric, MetricUnit.Count, 1);
  if (eventType === 'SagaCompensated' || eventType === 'SagaCompensationFailed')
    logger.warn('saga compensated', { sagaId, eventType });
}

/**
 * A consumer's Lambda handler with Powertools: a structured log line for each record it cannot
 * read, and per invocation the metrics `EventsApplied`, `DuplicatesDropped`, `GapsFilled`,
 * `RecordsFailed`, `IteratorLagMs`, and for the bus router `EventsPublished` and
 * `PutEventsFailed`, for the saga functions `SagasCompleted`,
 * `SagasCompensated`, `SagaStepsFailed`, `SagaCompensationsFailed` (namespace `matchstream`,
 * dimensions `service` and `consumer`) in EMF.
 */
export function observed(
  consumer: string,
  build: (observer: SagaObserver) => KinesisHandler,
): { handler: KinesisHandler; logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: 'matchstream', persistentKeys: { consumer } });
  const metrics = handlerMetrics(consumer);
  const inner = build({
    delivered(applied, duplicates, filled, skipped) {
      metrics.addMetric('EventsApplied', MetricUnit.Count, applied);
      metrics.addMetric('DuplicatesDropped', MetricUnit.Count, duplicates);
      metrics.addMetric('GapsFilled', MetricUnit.Count, filled);
      metrics.addMetric('EventsSkipped', MetricUnit.Count, skipped);
    },
    published(published, deadLettered) {
      metrics.addMetric('EventsPublished', MetricUnit.Count, published);
      metrics.addMetric('PutEventsFailed', MetricUnit.Count, deadLettered);
    },
    sagaEvent: (sagaId, eventType) => sagaMetric(metrics, logger, sagaId, eventType),
    error(error) {
      logger.error('saga coordinator failed', { error: error.message });
    },
    failed(record, error) {
      logger.error('record not processed', {
        shard: record.eventID.split(':')[0],
        sequenceNumber: record.kinesis.sequenceNumber,
        partitionKey: record.kinesis.partitionKey,
        error: error instanceof Error ? error.message : String(error),
      });
    },
  });
  const handler: KinesisHandler = async (event: KinesisStreamEvent) => {
    const oldest = Math.min(
      ...event.Records.map((r) => r.kinesis.approximateArrivalTimestamp * 1000),
    );
    try {
      const response = await inner(event);
      metrics.addMetric('RecordsFailed', MetricUnit.Count, response.batchItemFailures.length);
      if (Number.isFinite(oldest))
        metrics.addMetric('IteratorLagMs', MetricUnit.Milliseconds, Date.now() - oldest);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
  return { handler, logger, metrics };
}
