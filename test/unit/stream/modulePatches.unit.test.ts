import { symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replacedInProcess } from '../../../stream/local/modulePatches.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const require = createRequire(import.meta.url);

describe('a module replaced in this process', () => {
  it('is replaced when named through a link to its folder', () => {
    // Prepare: two CommonJS modules in a folder, and a link to that folder.
    tmp.file('given.cjs', 'module.exports = { base: 40 };\n');
    tmp.file('replaced.cjs', "module.exports = 'the original';\n");
    const linked = tmp.path('linked');
    symlinkSync(tmp.dir, linked, 'dir');

    // Act: the patch named by the paths through the link.
    replacedInProcess(
      (given: { base: number }) => `the replacement of ${given.base + 2}`,
      join(linked, 'given.cjs'),
      join(linked, 'replaced.cjs'),
    );

    // Assess: whatever path loads it, the module is the replacement.
    expect(require(join(tmp.dir, 'replaced.cjs'))).toBe('the replacement of 42');
    expect(require(join(linked, 'replaced.cjs'))).toBe('the replacement of 42');
  });
});
