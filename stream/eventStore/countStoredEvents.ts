import {
  type AttributeValue,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { scanSegments } from '../aws/scanSegments.js';

/** The events a table holds, counted by type and by day (of the event's timestamp). */
export interface StoredEventCounts {
  readonly total: number;
  readonly by_type: Record<string, number>;
  readonly by_day: Record<string, Record<string, number>>;
}

/**
 * Counts the events stored in an events table, whatever has or has not consumed them: a
 * parallel Scan reading each commit's event types and timestamps (no data is decoded). A
 * table that does not exist holds nothing.
 */
export async function countStoredEvents(
  client: DynamoDBClient,
  table: string,
  options: {
    /** @default 4 */
    readonly segments?: number;
    /** Each item as the scan reads it (the archive's counts look at the expired streams'). */
    readonly onItem?: (item: Record<string, AttributeValue>) => void;
  } = {},
): Promise<StoredEventCounts> {
  const segments = options.segments ?? 4;
  const byType: Record<string, number> = {};
  const byDay: Record<string, Record<string, number>> = {};
  let total = 0;
  const count = (item: Record<string, AttributeValue>) => {
    // Numbers kept as written: nothing here reads them, and a damaged item may hold any.
    const { events } = unmarshall(item, { wrapNumbers: true });
    for (const event of Array.isArray(events) ? events : []) {
      const type = typeof event?.event_type === 'string' ? event.event_type : '(unknown type)';
      const day =
        typeof event?.timestamp === 'string' ? event.timestamp.slice(0, 10) : '(no timestamp)';
      total++;
      byType[type] = (byType[type] ?? 0) + 1;
      const ofDay = byDay[day] ?? {};
      ofDay[type] = (ofDay[type] ?? 0) + 1;
      byDay[day] = ofDay;
    }
  };
  try {
    await scanSegments(
      client,
      { TableName: table, ProjectionExpression: 'events' },
      segments,
      (items) => {
        for (const item of items) {
          count(item);
          options.onItem?.(item);
        }
      },
    );
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return { total: 0, by_type: {}, by_day: {} };
    throw error;
  }
  // In key order, so that the same store always reads the same (segments finish in any order).
  return {
    total,
    by_type: sorted(byType),
    by_day: Object.fromEntries(Object.entries(sorted(byDay)).map(([d, t]) => [d, sorted(t)])),
  };
}

function sorted<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}
