import { describe, expect, it } from 'vitest';
import {
  awsExporter,
  type ChainExporter,
  chainUpToDate,
  FRESH_EXPORT_MS,
  localExporter,
  MAX_CHAIN_EXPORTS,
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

  const local = localExporter({
    client: {} as never,
    table: 'events',
    storage: {} as never,
    prefix: 'events',
  });

  it('on AWS: a full export without a chain or past 24 hours, an incremental one once DynamoDB takes the window, else none', () => {
    expect(aws.needs(undefined, now, 0)).toBe('full');
    expect(aws.needs(ago(25 * 60 * MIN), now, 1)).toBe('full');
    expect(aws.needs(ago(60 * MIN), now, 1)).toBe('incremental');
    // 16 minutes old, but taken to the 5-minute step the window is 14 minutes: too short.
    expect(aws.needs(ago(16 * MIN), now, 1)).toBeUndefined();
    expect(aws.needs(ago(10 * MIN), now, 1)).toBeUndefined();
  });

  it('locally: a full export without a chain, an incremental one once the chain is 15 minutes old, else none', () => {
    expect(local.needs(undefined, now, 0)).toBe('full');
    expect(local.needs(ago(25 * 60 * MIN), now, 1)).toBe('incremental');
    expect(local.needs(ago(16 * MIN), now, 1)).toBe('incremental');
    expect(local.needs(ago(10 * MIN), now, 1)).toBeUndefined();
  });

  it('takes a full export instead of an incremental one once the chain holds 100 exports, and none while it is fresh', () => {
    expect(MAX_CHAIN_EXPORTS).toBe(100);
    for (const exporter of [aws, local]) {
      expect(exporter.needs(ago(60 * MIN), now, 99)).toBe('incremental');
      expect(exporter.needs(ago(60 * MIN), now, 100)).toBe('full');
      expect(exporter.needs(ago(10 * MIN), now, 100)).toBeUndefined();
    }
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

  it('tells the exporter how many exports the chain holds', async () => {
    // Prepare: an archive of a full export and 99 incremental ones after it, an hour apart,
    // the last ending an hour ago.
    const objects = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      const id = `0000${i}`.slice(-5);
      const folder = `events/AWSDynamoDB/${id}`;
      const to = ago((100 - i) * 60 * MIN);
      objects.set(`${folder}/manifest-files.json`, '');
      objects.set(
        `${folder}/manifest-summary.json`,
        JSON.stringify({
          exportArn: `arn:aws:dynamodb:us-east-1:123456789012:table/events/export/${id}`,
          startTime: to,
          manifestFilesS3Key: `${folder}/manifest-files.json`,
          itemCount: 0,
          outputFormat: 'DYNAMODB_JSON',
          ...(i === 0
            ? { exportTime: to, exportType: 'FULL_EXPORT' }
            : {
                exportFromTime: ago((101 - i) * 60 * MIN),
                exportToTime: to,
                exportType: 'INCREMENTAL_EXPORT',
              }),
        }),
      );
    }
    const archive: ArchiveStorage = {
      ...empty,
      read: async (key) => Buffer.from(objects.get(key) ?? ''),
      async *list(prefix: string): AsyncIterable<ArchiveObject> {
        for (const key of objects.keys())
          if (key.startsWith(prefix)) yield { key, size: 0, modified: new Date(now) };
      },
    };
    const asked: number[] = [];
    const made: string[] = [];
    const exporter: ChainExporter = {
      description: 'test',
      needs: (end, at, exports) => {
        asked.push(exports);
        return localExporter({
          client: {} as never,
          table: 'events',
          storage: {} as never,
          prefix: 'events',
        }).needs(end, at, exports);
      },
      full: async () => made.push('full'),
      incremental: async (from) => made.push(`incremental from ${from}`),
    };

    // Act
    const result = await chainUpToDate(archive, 'events', exporter, () => now);

    // Assess: the chain's 100 exports counted, and a full export taken.
    expect(asked).toEqual([100]);
    expect(made).toEqual(['full']);
    expect(result.exported).toBe('full');
  });
});
