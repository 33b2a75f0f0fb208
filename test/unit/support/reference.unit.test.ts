import { describe, expect, it } from 'vitest';
import { referenceDir } from '../../support/reference.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

describe('referenceDir', () => {
  const absent = '/nonexistent/matchstream-reference';

  it('finds the folder MATCHSTREAM_REFERENCE_DIR names', () => {
    expect(referenceDir({ MATCHSTREAM_REFERENCE_DIR: tmp.dir })).toBe(tmp.dir);
  });

  it('lets a user without the reference data skip its tests', () => {
    expect(referenceDir({ MATCHSTREAM_REFERENCE_DIR: absent })).toBeUndefined();
  });

  it('fails a CI run without the reference data, naming where it looked', () => {
    expect(() => referenceDir({ MATCHSTREAM_REFERENCE_DIR: absent, CI: 'true' })).toThrow(
      `the RPI reference data is required in CI and is absent: ${absent}`,
    );
  });
});
