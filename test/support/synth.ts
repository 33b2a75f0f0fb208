import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { inject } from 'vitest';
import { buildApp } from '../../infra/buildApp.js';

/**
 * Synthesizing the app costs about twenty seconds, most of it bundling the functions. The test
 * files that synthesize it run in one process per worker, one after the other (the `cdk`
 * project of vitest.config.ts, not isolated), so what is built here serves every file of the
 * process: the default stack is synthesized once, and the bundles staged in the shared folder
 * are reused by each later synth of another context whose bundles are the same (the CDK keeps
 * the assets it staged, per folder, for the rest of the process).
 */

/** A folder of its own under the run's folder (made and removed by test/globalSetup.ts). */
function folder(name: string): string {
  return mkdtempSync(join(inject('synthRoot'), `${name}-`));
}

let defaults: { stack: ReturnType<typeof buildApp>['stack']; outdir: string } | undefined;

/**
 * The app as `cdk synth` makes it from the default context (cdk-nag runs; a broken rule throws),
 * synthesized once per process into a folder nothing else writes to. Read it only: the stack
 * is shared by the test files of the process. The template is each caller's own copy.
 */
export function defaultStack() {
  if (defaults === undefined) {
    const outdir = folder('cdk.out-default');
    const { app, stack } = buildApp({}, outdir);
    app.synth();
    defaults = { stack, outdir };
  }
  const { stack, outdir } = defaults;
  return {
    stack,
    outdir,
    template: Template.fromJSON(structuredClone(Template.fromStack(stack).toJSON())),
  };
}

let shared: string | undefined;

/**
 * The cloud assembly folder that the other synths of the process share: a synth there bundles
 * only what no synth before it in the process bundled with the same settings. Each synth
 * rewrites the assembly's manifest and templates: read a synth's template from its stack
 * (`Template.fromStack`), not from this folder.
 */
export function sharedOutdir(): string {
  shared ??= folder('cdk.out');
  return shared;
}

/**
 * The context that skips bundling the functions: `aws:cdk:bundling-stacks`, through which the
 * CDK CLI names the stacks a command needs bundled, names none. The template is the same but
 * for the functions' asset keys; a synth takes about 2 s instead of about 20 for each context
 * whose bundles no synth of the process built (another Node.js version, source maps, or any
 * context at all in the shared folder, whose bundles are staged apart from the default's).
 */
export const UNBUNDLED = { [cxapi.BUNDLING_STACKS]: [] } as const;

/**
 * Builds and synthesizes the app from `context` in the shared folder, without bundling the
 * functions unless `bundle` (a test of the bundles themselves).
 */
export function synthesize(
  context: Record<string, unknown>,
  { bundle = false }: { readonly bundle?: boolean } = {},
) {
  const outdir = sharedOutdir();
  const { app, stack } = buildApp(bundle ? context : { ...context, ...UNBUNDLED }, outdir);
  app.synth();
  return { app, stack, outdir, template: Template.fromStack(stack) };
}
