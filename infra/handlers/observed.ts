import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamEvent } from '../../stream/consumer/kinesisEvent.js';
import type { ConsumerObserver, KinesisHandler } from './consumers.js';

/**
 * A consumer's Lambda handler with Powertools: a structured log line for each record it cannot
 * read, and per invocation the metrics `EventsApplied`, `DuplicatesDropped`, `GapsFilled`,
 * `RecordsFailed`, `IteratorLagMs`, and for the bus router `EventsPublished` and
 * `PutEventsFailed` (namespace `matchstream`, dimensions `service` and `consumer`) in EMF.
 */
export function observed(
  consumer: string,
  build: (observer: ConsumerObserver) => KinesisHandler,
): { handler: KinesisHandler; logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: 'matchstream', persistentKeys: { consumer } });
  const metrics = new Metrics({ namespace: 'matchstream', serviceName: 'matchstream' });
  metrics.addDimension('consumer', consumer);
  const inner = build({
    delivered(applied, duplicates, filled) {
      metrics.addMetric('EventsApplied', MetricUnit.Count, applied);
      metrics.addMetric('DuplicatesDropped', MetricUnit.Count, duplicates);
      metrics.addMetric('GapsFilled', MetricUnit.Count, filled);
    },
    published(published, deadLettered) {
      metrics.addMetric('EventsPublished', MetricUnit.Count, published);
      metrics.addMetric('PutEventsFailed', MetricUnit.Count, deadLettered);
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
