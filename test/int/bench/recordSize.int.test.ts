import { describe, expect, it } from 'vitest';
import { measureRecordSizes } from '../../../bench/recordSize.js';

describe('bench/recordSize.ts, on a tiny season (a benchmark is not a test: counts, never sizes)', () => {
  it('reads back from the local stream one record per commit the season appended', async () => {
    const result = await measureRecordSizes(6, 2);

    expect(result.all.records).toBe(result.commits_appended);
    expect(result.all.records).toBe(
      (result.by_event_type.MatchRecorded?.records ?? 0) +
        (result.by_event_type.TeamRegistered?.records ?? 0),
    );
    expect(result.by_event_type.TeamRegistered?.records).toBe(6);
    expect(result.all.expansion).toBeGreaterThan(1);
  }, 60_000);
});
