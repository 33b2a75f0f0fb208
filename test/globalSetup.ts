import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's folder for the cloud assemblies of test/support/synth.ts. */
    synthRoot: string;
  }
}

const projectRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Bundles the built command again when the modules under dist/ are newer than its bundle
 * (`npx tsc -b` after a change): the tests run the bin, never a bundle older than the code.
 * Without a build there is nothing to bundle; the tests that run the command say so.
 */
function bundleCommand(): void {
  if (existsSync(join(projectRoot, 'dist/cli/main.js')))
    execFileSync(process.execPath, [join(projectRoot, 'tools/bundleCli.mjs')], {
      stdio: 'inherit',
    });
}

/**
 * Makes the run's folder for the synthesized apps, and removes it after the run; brings the
 * command's bundle up to date first.
 */
export default function setup(project: TestProject) {
  bundleCommand();
  const root = mkdtempSync(join(tmpdir(), 'matchstream-synth-'));
  project.provide('synthRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
