import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { type ChangeRecord, newImage, parseChangeRecord } from '../changes/ChangeRecord.js';
import { CommitCodec, envelopeFromJson } from '../eventStore/Commit.js';
import { fromItem } from '../eventStore/commitItem.js';
import type { DeadLetter } from './DeadLetterQueue.js';
import { isInvocationRecord, recordsOf } from './invocationRecord.js';
import type { KinesisStreamRecord } from './kinesisEvent.js';

/** One line of `matchstream inspect`: an event, or why a record could not be read. */
export type InspectLine =
  | ({ readonly kind: 'event' } & Readonly<Record<string, unknown>>)
  | { readonly kind: 'error'; readonly where: string; readonly error: string };

/**
 * Reads whatever an operator holds — a Lambda Kinesis event, a dead letter (or a list of
 * them), an on-failure destination's invocation record, a raw change record, or JSON Lines
 * of those — into the events inside, decoded and
 * upcast to the latest schema version, each with the version it was written with and where
 * it came from.
 */
export function inspectDocument(
  document: unknown,
  registry: SchemaRegistry,
  where = 'input',
): InspectLine[] {
  const codec = new CommitCodec(registry);
  const lines: InspectLine[] = [];
  const fromChange = (change: ChangeRecord, source: Record<string, unknown>, at: string) => {
    const image = newImage(change);
    if (!image) {
      lines.push({
        kind: 'error',
        where: at,
        error: `a ${change.eventName} record carries no new image`,
      });
      return;
    }
    const commit = fromItem(image, change.tableName);
    const envelopes = codec.envelopes(commit);
    envelopes.forEach((envelope, i) => {
      lines.push({
        kind: 'event',
        ...envelope,
        writer_version: commit.events[i]?.version,
        source: { ...source, table: change.tableName, change: change.eventName },
      });
    });
  };
  const fromKinesis = (record: KinesisStreamRecord, extra: Record<string, unknown>, at: string) => {
    const change = parseChangeRecord(Buffer.from(record.kinesis.data, 'base64'));
    fromChange(change, { ...extra, kinesis_record: record.eventID }, at);
  };
  // A bus event carries the envelope at the version its publisher wrote: brought to the
  // latest as a bus handler reads it, with the version it carried. A claim check (an event
  // too large for the bus) holds no data, only where the event is in the store: as it is.
  const fromBus = (detail: unknown, source: Record<string, unknown>) => {
    if (isObject(detail) && detail.claim_check === true) {
      lines.push({ kind: 'event', ...detail, source });
      return;
    }
    const envelope = envelopeFromJson(detail, registry);
    if (!envelope) throw new Error('the bus event carries no event envelope');
    lines.push({
      kind: 'event',
      ...envelope,
      writer_version: (detail as { version?: unknown }).version,
      source,
    });
  };
  const visit = (item: unknown, at: string) => {
    try {
      if (Array.isArray(item)) {
        for (const [i, x] of item.entries()) visit(x, `${at}[${i}]`);
      } else if (isInvocationRecord(item)) {
        // What an S3 on-failure destination keeps: the whole event, decoded as consumers do.
        const failed = {
          on_failure: {
            function: item.requestContext.functionArn,
            condition: item.requestContext.condition,
            shard: item.KinesisBatchInfo.shardId,
            at: item.timestamp,
          },
        };
        for (const [i, r] of recordsOf(item).entries())
          fromKinesis(r, failed, `${at}.payload.Records[${i}]`);
      } else if (isObject(item) && Array.isArray(item.Records)) {
        for (const [i, r] of item.Records.entries()) visit(r, `${at}.Records[${i}]`);
      } else if (
        isObject(item) &&
        typeof item.consumer === 'string' &&
        typeof item.error === 'string'
      ) {
        const letter = item as unknown as DeadLetter;
        const dead = {
          dead_letter: {
            consumer: letter.consumer,
            error: letter.error,
            failed_at: letter.failed_at,
          },
        };
        if (letter.record) fromKinesis(letter.record, dead, at);
        else if (isObject(letter.event) && isObject(letter.event.detail))
          fromBus(letter.event.detail, dead);
        else if (isObject(letter.event) && typeof letter.event.Detail === 'string')
          fromBus(JSON.parse(letter.event.Detail) as unknown, dead);
        else if (
          isObject(letter.event) &&
          typeof letter.event.aggregate_id === 'string' &&
          typeof letter.event.sequence === 'number'
        ) {
          // An event a rebuild could not read, or held back after one: where it is in the store.
          const event = letter.event;
          lines.push({
            kind: 'error',
            where: `${String(event.aggregate_id)} sequence ${String(event.sequence)}${event.event_id ? ` (event ${String(event.event_id)})` : ''}, dead letter of ${letter.consumer}`,
            error: letter.error,
          });
        } else {
          lines.push({
            kind: 'error',
            where: at,
            error: 'a dead letter with neither a record nor an event',
          });
        }
      } else if (isObject(item) && item.eventSource === 'aws:dynamodb') {
        fromChange(parseChangeRecord(JSON.stringify(item)), {}, at);
      } else if (isObject(item) && isObject(item.kinesis)) {
        fromKinesis(item as unknown as KinesisStreamRecord, {}, at);
      } else {
        lines.push({
          kind: 'error',
          where: at,
          error: 'not a Lambda Kinesis event, a dead letter or a change record',
        });
      }
    } catch (error) {
      lines.push({
        kind: 'error',
        where: at,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  visit(document, where);
  return lines;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
