import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, TestRunner } from 'vitest';

/** A fresh temporary folder removed after the test file; `file` writes into it. */
export function tempDir(prefix = 'matchstream-') {
  // Within a test, vitest registers no `afterAll`, and the folder would be left behind.
  const test = TestRunner.getCurrentTest();
  if (test)
    throw new Error(`tempDir() called in the test "${test.name}": call it in its describe block`);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    path: (name: string) => join(dir, name),
    file(name: string, content: string | Buffer): string {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
  };
}
