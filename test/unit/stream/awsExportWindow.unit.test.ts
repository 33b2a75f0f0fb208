import { describe, expect, it } from 'vitest';
import { exportRequest, incrementalWindow } from '../../../stream/archive/awsExport.js';
import { StoreError } from '../../../stream/StoreError.js';

const NOW = Date.parse('2025-03-01T12:07:30.000Z');
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:111122223333:table/matchstream-prod-events';
const minutesBefore = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

/** The error `work` throws (the test fails when it throws none). */
function thrown(work: () => unknown): StoreError {
  try {
    work();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('the window of an incremental export on AWS', () => {
  it('runs from the newest export to now taken down to 5 minutes', () => {
    // Act
    const window = incrementalWindow(minutesBefore(60), NOW);

    // Assess
    expect(window.from.toISOString()).toBe('2025-03-01T11:07:30.000Z');
    expect(window.to.toISOString()).toBe('2025-03-01T12:05:00.000Z');
  });

  it('refuses fewer than 15 minutes of changes and says when to try again', () => {
    // Prepare: 16 minutes before now is 13.5 minutes before 12:05, where the window ends.
    const from = minutesBefore(16);

    // Act
    const error = thrown(() => incrementalWindow(from, NOW));

    // Assess
    expect(error.code).toBe('EXPORT_REFUSED');
    expect(error.message).toBe(
      `an incremental export from ${from} to 2025-03-01T12:05:00.000Z covers 13 min; DynamoDB exports at least 15 minutes of changes: try again after 2025-03-01T12:10:00.000Z`,
    );
  });

  it('takes exactly 15 minutes and exactly 24 hours', () => {
    // Act
    const shortest = incrementalWindow('2025-03-01T11:50:00.000Z', NOW);
    const longest = incrementalWindow('2025-02-28T12:05:00.000Z', NOW);

    // Assess
    expect(shortest.to.getTime() - shortest.from.getTime()).toBe(15 * 60_000);
    expect(longest.to.getTime() - longest.from.getTime()).toBe(24 * 3_600_000);
  });

  it('refuses more than 24 hours of changes and says to take a full export', () => {
    // Prepare
    const from = '2025-02-28T12:04:59.000Z';

    // Act
    const error = thrown(() => incrementalWindow(from, NOW));

    // Assess
    expect(error.code).toBe('EXPORT_REFUSED');
    expect(error.message).toBe(
      `an incremental export from ${from} to 2025-03-01T12:05:00.000Z covers more than 24 hours, the most DynamoDB exports incrementally: take a full export instead`,
    );
  });

  it('refuses a start in the future, and one that is not a time', () => {
    // Act
    const future = thrown(() => incrementalWindow('2025-03-01T12:08:00.000Z', NOW));
    const garbled = thrown(() => incrementalWindow('yesterday', NOW));

    // Assess
    expect(future.message).toBe(
      "an incremental export from 2025-03-01T12:08:00.000Z: that is in the future (now 2025-03-01T12:07:30.000Z); is this machine's clock right?",
    );
    expect(garbled.message).toBe('an incremental export from "yesterday": not a time');
  });
});

describe('the export request on AWS', () => {
  const base = { tableArn: TABLE_ARN, bucket: 'ms-archive', prefix: 'events' } as const;

  it('asks for DynamoDB JSON under the prefix, new images of the window, with KMS when a key is given', () => {
    // Act
    const request = exportRequest({
      ...base,
      now: NOW,
      incremental: { from: minutesBefore(60) },
      kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
    });

    // Assess
    expect(request).toEqual({
      TableArn: TABLE_ARN,
      S3Bucket: 'ms-archive',
      S3Prefix: 'events',
      ExportFormat: 'DYNAMODB_JSON',
      S3SseAlgorithm: 'KMS',
      S3SseKmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      ExportType: 'INCREMENTAL_EXPORT',
      IncrementalExportSpecification: {
        ExportFromTime: new Date('2025-03-01T11:07:30.000Z'),
        ExportToTime: new Date('2025-03-01T12:05:00.000Z'),
        ExportViewType: 'NEW_IMAGE',
      },
      ClientToken: expect.stringMatching(/^matchstream-[0-9a-f]{32}$/),
    });
  });

  it('leaves the encryption to the bucket without a key, and names no time for a full export', () => {
    // Act
    const request = exportRequest({ ...base, now: NOW });

    // Assess
    expect(request.ExportType).toBe('FULL_EXPORT');
    expect(request).not.toHaveProperty('S3SseAlgorithm');
    expect(request).not.toHaveProperty('S3SseKmsKeyId');
    expect(request).not.toHaveProperty('ExportTime');
    expect(request).not.toHaveProperty('IncrementalExportSpecification');
  });

  it('gives the same request within 5 minutes the same client token, and another request another', () => {
    // Prepare
    const token = (now: number, more: Partial<Parameters<typeof exportRequest>[0]> = {}) =>
      exportRequest({ ...base, now, ...more }).ClientToken;
    const later = NOW + 2 * 60_000; // 12:09:30, the same 5 minutes as 12:07:30
    const nextStep = NOW + 3 * 60_000; // 12:10:30
    const from = { incremental: { from: minutesBefore(60) } };

    // Act and Assess
    expect(token(later)).toBe(token(NOW));
    expect(token(later, from)).toBe(token(NOW, from));
    expect(token(nextStep)).not.toBe(token(NOW));
    expect(token(nextStep, from)).not.toBe(token(NOW, from));
    expect(token(NOW, from)).not.toBe(token(NOW));
    expect(token(NOW, { incremental: { from: minutesBefore(61) } })).not.toBe(token(NOW, from));
    expect(token(NOW, { bucket: 'other' })).not.toBe(token(NOW));
    expect(token(NOW, { kmsKeyId: 'k' })).not.toBe(token(NOW));
  });
});
