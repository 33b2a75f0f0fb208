import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchWriteReliably } from '../aws/dynamoBatch.js';
import type { BusEvent } from './eventPattern.js';

/** Every event a bus received, for replay. */
export interface BusArchive {
  add(bus: string, events: readonly BusEvent[]): Promise<void>;
  /** Events of a bus received between two instants (ISO-8601, inclusive), oldest first. */
  between(bus: string, from?: string, to?: string): Promise<BusEvent[]>;
}

export class InMemoryBusArchive implements BusArchive {
  private readonly events = new Map<string, BusEvent[]>();

  async add(bus: string, events: readonly BusEvent[]): Promise<void> {
    this.events.set(bus, [...(this.events.get(bus) ?? []), ...events]);
  }

  async between(bus: string, from?: string, to?: string): Promise<BusEvent[]> {
    // Oldest first, in the table's sort-key order (by code unit, not by locale); events
    // arrive in any order.
    return (this.events.get(bus) ?? [])
      .filter((e) => inRange(String(e.time), from, to))
      .map((event) => ({ event, key: keyOf(event) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ event }) => event);
  }
}

/** The archive table's default name: partition key `bus`, sort key `key` (time#id). */
export const BUS_ARCHIVE_TABLE = 'matchstream-bus-archive';

export class DynamoBusArchive implements BusArchive {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table = BUS_ARCHIVE_TABLE,
  ) {}

  async add(bus: string, events: readonly BusEvent[]): Promise<void> {
    await batchWriteReliably(
      this.client,
      this.table,
      events.map((event) => ({
        put: marshall({ bus, key: keyOf(event), event: JSON.stringify(event) }),
      })),
      ['bus', 'key'],
    );
  }

  async between(bus: string, from?: string, to?: string): Promise<BusEvent[]> {
    const events: BusEvent[] = [];
    let start: Record<string, AttributeValue> | undefined;
    // DynamoDB refuses an empty string as a key value, even in a condition (dynalite takes
    // it): without a start, the range is open below.
    const range = from === undefined ? '#k <= :to' : '#k BETWEEN :from AND :to';
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: `bus = :b AND ${range}`,
          ExpressionAttributeNames: { '#k': 'key' },
          ExpressionAttributeValues: marshall({
            ':b': bus,
            ...(from === undefined ? {} : { ':from': from }),
            ':to': `${to ?? '9999'}#\uffff`,
          }),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        const { event } = unmarshall(item);
        events.push(JSON.parse(typeof event === 'string' ? event : '{}') as BusEvent);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return events;
  }
}

/** An archived event's sort key: its time, then its id. */
function keyOf(event: BusEvent): string {
  return `${String(event.time)}#${String(event.id)}`;
}

function inRange(time: string, from?: string, to?: string): boolean {
  return (from === undefined || time >= from) && (to === undefined || time <= to);
}
