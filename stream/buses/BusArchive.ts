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
    return (this.events.get(bus) ?? []).filter((e) => inRange(String(e.time), from, to));
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
        put: marshall({
          bus,
          key: `${String(event.time)}#${String(event.id)}`,
          event: JSON.stringify(event),
        }),
      })),
      ['bus', 'key'],
    );
  }

  async between(bus: string, from?: string, to?: string): Promise<BusEvent[]> {
    const events: BusEvent[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'bus = :b AND #k BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#k': 'key' },
          ExpressionAttributeValues: marshall({
            ':b': bus,
            ':from': from ?? '',
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

function inRange(time: string, from?: string, to?: string): boolean {
  return (from === undefined || time >= from) && (to === undefined || time <= to);
}
