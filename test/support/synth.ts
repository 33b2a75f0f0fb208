import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { inject } from 'vitest';
import { buildApp } from '../../infra/buildApp.js';

/**
 * Synthesizing the app costs about twenty seconds when it bundles the functions, about two when
 * it does not. The test files that synthesize it run in one process per worker, one after the
 * other (the `cdk` project of vitest.config.ts, not isolated), so what is built here serves
 * every file of the process: the default stack is built once per process, without bundling
 * (`defaultStack`); the default cloud assembly with its bundles once per run, by the first
 * process that asks, in the run's folder (`defaultAssembly`); and the bundles staged in the
 * shared folder are reused by each later synth of another context whose bundles are the same
 * (the CDK keeps the assets it staged, per folder, for the rest of the process).
 */

/** A folder of its own under the run's folder (made and removed by test/globalSetup.ts). */
function folder(name: string): string {
  return mkdtempSync(join(inject('synthRoot'), `${name}-`));
}

let defaults: ReturnType<typeof buildApp>['stack'] | undefined;

/**
 * The app as `cdk synth` makes it from the default context (cdk-nag runs; a broken rule throws),
 * synthesized once per process into a folder nothing else writes to, without bundling the
 * functions: the same template but for their assets' keys (`defaultAssembly` has the bundles).
 * Read it only: the stack is shared by the test files of the process. The template is each
 * caller's own copy.
 */
export function defaultStack() {
  if (defaults === undefined) {
    const { app, stack } = buildApp({ ...UNBUNDLED }, folder('cdk.out-default'));
    app.synth();
    defaults = stack;
  }
  return {
    stack: defaults,
    template: Template.fromJSON(structuredClone(Template.fromStack(defaults).toJSON())),
  };
}

let assembly: { outdir: string; stackName: string; templateFile: string } | undefined;

/** How long a process waits for the default assembly another one is synthesizing. */
const ASSEMBLY_WAIT_MS = 300_000;

/**
 * The cloud assembly `cdk synth` makes from the default context, the functions bundled:
 * synthesized once per run, by the first process to claim its folder in the run's folder; the
 * others wait for the record it writes last (which names the failure, if it failed). The
 * template is read from the assembly, each caller's own copy. Read the folder only.
 */
export function defaultAssembly(): {
  outdir: string;
  stackName: string;
  template: Template;
} {
  if (assembly === undefined) {
    const root = inject('synthRoot');
    const outdir = join(root, 'cdk.out-bundled');
    const record = join(root, 'cdk.out-bundled.json');
    let claimed = true;
    try {
      mkdirSync(outdir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      claimed = false;
    }
    if (claimed) {
      let result: object = { error: 'the synth ended without a result' };
      try {
        const { app, stack } = buildApp({}, outdir);
        app.synth();
        result = { stackName: stack.stackName, templateFile: stack.templateFile };
      } catch (error) {
        result = { error: String(error) };
        throw error;
      } finally {
        // Whole or not at all, for the processes waiting on it.
        writeFileSync(`${record}.tmp`, JSON.stringify(result));
        renameSync(`${record}.tmp`, record);
      }
    }
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    const until = Date.now() + ASSEMBLY_WAIT_MS;
    while (!existsSync(record)) {
      if (Date.now() > until)
        throw new Error(`no default assembly in ${outdir} after ${ASSEMBLY_WAIT_MS} ms`);
      Atomics.wait(sleep, 0, 0, 100);
    }
    const made = JSON.parse(readFileSync(record, 'utf8')) as {
      stackName?: string;
      templateFile?: string;
      error?: string;
    };
    if (!made.stackName || !made.templateFile)
      throw new Error(`the default assembly could not be synthesized: ${made.error}`);
    assembly = { outdir, stackName: made.stackName, templateFile: made.templateFile };
  }
  const { outdir, stackName, templateFile } = assembly;
  return {
    outdir,
    stackName,
    template: Template.fromJSON(JSON.parse(readFileSync(join(outdir, templateFile), 'utf8'))),
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
