import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tempDir.js';

describe('tempDir', () => {
  it('refuses to make a folder inside a test, where no afterAll would remove it', () => {
    expect(() => tempDir('matchstream-guard-')).toThrow(
      /tempDir\(\) called in the test "refuses to make .*": call it in its describe block/,
    );
  });
});
