import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Commit } from '../../../stream/eventStore/Commit.js';
import { itemSize } from '../../../stream/eventStore/Commit.js';
import { fromItem, toItem } from '../../../stream/eventStore/commitItem.js';
import { GZIP_FROM_BYTES } from '../../../stream/eventStore/storedData.js';
import { StoreError } from '../../../stream/StoreError.js';

/** A commit of one event whose data is `bytes` long (repetitive, as Avro of many teams is). */
function commitOf(bytes: number): Commit {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7) % 61;
  return {
    aggregate_id: 'rpi:c1',
    sequence: 1,
    last_sequence: 1,
    committed_at: '2026-11-01T12:00:00.000Z',
    events: [
      {
        event_id: 'e1',
        event_type: 'RpiCalculated',
        version: 3,
        fingerprint: 'ab'.repeat(32),
        data,
        timestamp: '2026-11-01T12:00:00.000Z',
        correlation_id: 'c1',
        causation_id: null,
      },
    ],
  };
}

describe("an event's stored data", () => {
  it('is the Avro bytes as they are below the threshold, with no encoding named', () => {
    const commit = commitOf(GZIP_FROM_BYTES - 1);
    const item = toItem(commit);
    const event = item.events?.L?.[0]?.M;

    expect(event?.encoding).toBeUndefined();
    expect(event?.data?.B).toBe(commit.events[0]?.data);
    expect(fromItem(item, 'events')).toEqual(commit);
  });

  it('is gzipped from the threshold, named so, and read back as the Avro bytes', () => {
    const commit = commitOf(100_000);
    const avro = Buffer.from(commit.events[0]?.data ?? []);
    const item = toItem(commit);
    const event = item.events?.L?.[0]?.M;

    expect(event?.encoding).toEqual({ S: 'gzip' });
    const stored = event?.data?.B as Uint8Array;
    expect(stored.byteLength).toBeLessThan(100_000 / 10);
    expect(gunzipSync(stored).equals(avro)).toBe(true);
    const read = fromItem(item, 'events');
    expect({ ...read, events: [] }).toEqual({ ...commit, events: [] });
    expect(Buffer.from(read.events[0]?.data ?? []).equals(avro)).toBe(true);
    // As a change record carries it: DynamoDB JSON, binary in base64.
    const json = {
      ...item,
      events: { L: [{ M: { ...event, data: { B: Buffer.from(stored).toString('base64') } } }] },
    };
    expect(Buffer.from(fromItem(json, 'events').events[0]?.data ?? []).equals(avro)).toBe(true);
  });

  it('is sized as it is stored: its gzipped bytes and the encoding attribute', () => {
    const commit = commitOf(100_000);
    const stored = toItem(commit).events?.L?.[0]?.M?.data?.B as Uint8Array;
    const [event] = commit.events;
    const asStored = {
      ...commit,
      events: [{ ...event, data: stored } as Commit['events'][number]],
    };

    // "encoding" and "gzip", and a byte for the element.
    expect(itemSize(commit)).toBe(itemSize(asStored) + 8 + 4 + 1);
    expect(itemSize(commit)).toBeLessThan(20_000);
  });

  it('names the item of data in an encoding it does not know, or that does not decode', () => {
    const item = toItem(commitOf(GZIP_FROM_BYTES));
    const event = item.events?.L?.[0]?.M as Record<string, unknown>;
    event.encoding = { S: 'zstd' };
    expect(() => fromItem(item, 'events')).toThrow(StoreError);
    expect(() => fromItem(item, 'events')).toThrow(
      /item rpi:c1\/1 of events: event 1: unknown data encoding "zstd"/,
    );
    event.encoding = { S: 'gzip' };
    event.data = { B: Buffer.from('not gzip') };
    expect(() => fromItem(item, 'events')).toThrow(/item rpi:c1\/1 of events: event 1: /);
  });
});
