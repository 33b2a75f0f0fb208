import { describe, expect, it } from 'vitest';
import { rebuildProgress } from '../../../cli/output/rebuildProgress.js';
import type { AwsRebuildProgress } from '../../../pipeline/aws/rebuildOnAws.js';

const at = (state: string | null, more: Partial<AwsRebuildProgress> = {}): AwsRebuildProgress => ({
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:rebuild:standings-1',
  status: 'RUNNING',
  state,
  files: null,
  streams: null,
  ...more,
});

describe("rebuild --aws's progress line", () => {
  it('names the step, and counts what the step it is in has done', () => {
    const map = { total: 1_200, done: 310, failed: 0 };

    expect(rebuildProgress(at(null))).toBe('rebuild run: starting');
    expect(rebuildProgress(at('ApplyFiles', { files: map }))).toBe(
      'rebuild run: ApplyFiles, files 310/1,200 applied',
    );
    expect(rebuildProgress(at('ApplyFiles', { files: { ...map, failed: 2 } }))).toBe(
      'rebuild run: ApplyFiles, files 310/1,200 applied, 2 failed',
    );
    expect(
      rebuildProgress(at('CompareSegments', { files: { total: 32, done: 5, failed: 0 } })),
    ).toBe('rebuild run: CompareSegments, segments 5/32 compared');
    expect(
      rebuildProgress(
        at('ApplyDeferredStreams', { files: map, streams: { total: 250_000, done: 40_000 } }),
      ),
    ).toBe('rebuild run: ApplyDeferredStreams, deferred streams 40,000/250,000 applied');
  });

  it("does not count the last map's items in a step that is not that map", () => {
    const map = { total: 1_200, done: 1_200, failed: 0 };

    expect(rebuildProgress(at('Verify', { files: map }))).toBe('rebuild run: Verify');
    expect(rebuildProgress(at('ApplyDeferredStreams', { files: map }))).toBe(
      'rebuild run: ApplyDeferredStreams',
    );
  });
});
