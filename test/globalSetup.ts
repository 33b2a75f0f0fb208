import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's folder for the cloud assemblies of test/support/synth.ts. */
    synthRoot: string;
  }
}

/** Makes the run's folder for the synthesized apps, and removes it after the run. */
export default function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'matchstream-synth-'));
  project.provide('synthRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
