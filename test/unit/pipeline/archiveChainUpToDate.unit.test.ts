import { describe, expect, it } from 'vitest';
import {
  awsExporter,
  type ChainExporter,
  chainUpToDate,
  FRESH_EXPORT_MS,
} from '../../../pipeline/archiveChainUpToDate.js';
import type { ArchiveObject, ArchiveStorage } from '../../../stream/archive/ArchiveStorage.js';

const MIN = 60_000;
const now = Date.parse('2026-10-01T12:02:00.000Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

describe('the export a chain needs', () => {
  // The decision only: no call is made by `needs`.
  const aws = awsExporter({
    dynamo: {} as never,
    s3: {} as never,
    table: 'events',
    bucket: 'archive',
    prefix: 'events',
  });

  it('on AWS: a full export without a chain or past 24 hours, an incremental one once DynamoDB takes the window, else none', () => {
    expect(aws.needs(undefined, now)).toBe('full');
    expect(aws.needs(ago(25 * 60 * MIN), now)).toBe('full');
    expect(aws.needs(ago(60 * MIN), now)).toBe('incremental');
    // 16 minutes old, but taken to the 5-minute step the window is 14 minutes: too short.
    expect(aws.needs(ago(16 * MIN), now)).toBeUndefined();
    expect(aws.needs(ago(10 * MIN), now)).toBeUndefined();
  });
});

describe('chainUpToDate', () => {
  const empty: ArchiveStorage = {
    description: 'nowhere',
    bucket: 'nowhere',
    read: () => Promise.reject(new Error('nothing to read')),
    open: () => Promise.reject(new Error('nothing to open')),
    write: () => Promise.reject(new Error('nothing is written here')),
    async *list(): AsyncIterable<ArchiveObject> {},
  };

  it('makes a full export when the archive holds none, and says so', async () => {
    // Prepare
    const made: string[] = [];
    const exporter: ChainExporter = {
      description: 'test',
      needs: (end) => (end === undefined ? 'full' : undefined),
      full: async () => made.push('full'),
      incremental: async (from) => made.push(`incremental from ${from}`),
    };

    // Act
    const result = await chainUpToDate(empty, 'events', exporter, () => now);

    // Assess
    expect(made).toEqual(['full']);
    expect(result).toEqual({ chain: [], exported: 'full' });
    expect(FRESH_EXPORT_MS).toBe(15 * MIN);
  });
});
