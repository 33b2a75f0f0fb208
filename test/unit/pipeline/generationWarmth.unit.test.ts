import { describe, expect, it } from 'vitest';
import { generationWarmth, NEW_TABLE_WARM } from '../../../pipeline/aws/generations.js';

describe("a rebuilt generation's warm throughput", () => {
  it("starts from a new on-demand table's: 12,000 reads and 4,000 writes a second", () => {
    // The Developer Guide, "Understanding DynamoDB warm throughput in different scenarios".
    expect(NEW_TABLE_WARM).toEqual({ reads: 12_000, writes: 4_000 });
  });

  it('asks for nothing while the active generation and the run ask for no more than a new table has', () => {
    expect(generationWarmth(undefined, undefined)).toBeUndefined();
    expect(generationWarmth(NEW_TABLE_WARM, undefined)).toBeUndefined();
    expect(generationWarmth(NEW_TABLE_WARM, { writes: 4_000, reads: 100 })).toBeUndefined();
  });

  it("keeps the active generation's, each of reads and writes, so the switch lands on a table as warm", () => {
    expect(generationWarmth({ reads: 30_000, writes: 4_000 }, undefined)).toEqual({
      reads: 30_000,
      writes: 4_000,
    });
    expect(generationWarmth({ reads: 12_000, writes: 9_500 }, undefined)).toEqual({
      reads: 12_000,
      writes: 9_500,
    });
  });

  it('takes the larger of the active generation and the request, never less than a new table', () => {
    expect(generationWarmth({ reads: 30_000, writes: 6_000 }, { writes: 40_000 })).toEqual({
      reads: 30_000,
      writes: 40_000,
    });
    expect(
      generationWarmth({ reads: 30_000, writes: 6_000 }, { reads: 20_000, writes: 1 }),
    ).toEqual({ reads: 30_000, writes: 6_000 });
    expect(generationWarmth(undefined, { reads: 15_000 })).toEqual({
      reads: 15_000,
      writes: 4_000,
    });
  });
});
