import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tempDir.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = tempDir();

/**
 * A project of its own for the bundler (tools/bundleCli.mjs copied; a node_modules folder with a
 * link to each package of the real one and a record of its own, `.package-lock.json`, as npm
 * writes): a one-module command in dist/cli/main.js and a lockfile. The real bundle and
 * node_modules are left alone, since other test files run them meanwhile.
 */
function project(name: string): { dir: string; bundle: () => number } {
  const dir = tmp.path(name);
  mkdirSync(join(dir, 'tools'), { recursive: true });
  mkdirSync(join(dir, 'dist/cli'), { recursive: true });
  copyFileSync(join(root, 'tools/bundleCli.mjs'), join(dir, 'tools/bundleCli.mjs'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules')))
    if (name !== '.package-lock.json')
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  writeFileSync(join(dir, 'node_modules/.package-lock.json'), '{}\n');
  writeFileSync(join(dir, 'dist/cli/main.js'), 'console.log(42);\n');
  writeFileSync(join(dir, 'package-lock.json'), '{}\n');
  return {
    dir,
    bundle() {
      execFileSync(process.execPath, ['tools/bundleCli.mjs'], { cwd: dir, stdio: 'pipe' });
      return statSync(join(dir, 'dist/cli/matchstream.js')).mtimeMs;
    },
  };
}

/** Sets a file's modification time `seconds` from now. */
function touch(file: string, seconds: number): void {
  const when = new Date(Date.now() + seconds * 1000);
  utimesSync(file, when, when);
}

describe('the bundled command (tools/bundleCli.mjs)', () => {
  it('is made again when its modules, the lockfile, the installed packages or the bundler changed, and only then', () => {
    // Prepare
    const { dir, bundle } = project('fresh');
    const made = bundle();
    expect(readFileSync(join(dir, 'dist/cli/matchstream.js'), 'utf8')).toContain('console.log(42)');

    // Act and assess: nothing newer, nothing done; each input made newer in turn, a new bundle.
    expect(bundle()).toBe(made);
    let last = made;
    for (const [input, seconds] of [
      ['dist/cli/main.js', 10],
      ['package-lock.json', 20],
      ['node_modules/.package-lock.json', 30],
      ['tools/bundleCli.mjs', 40],
    ] as const) {
      touch(join(dir, input), seconds);
      const next = bundle();
      expect(next, `${input} newer than the bundle`).not.toBe(last);
      // The bundle is now newer than every input: made again, it would not be.
      touch(join(dir, 'dist/cli/matchstream.js'), seconds + 1);
      last = statSync(join(dir, 'dist/cli/matchstream.js')).mtimeMs;
      expect(bundle()).toBe(last);
    }
  }, 60_000);

  it('takes the packages from their ES module builds: only the commands used of an AWS SDK client', () => {
    // Prepare: a command that sends one DynamoDB command.
    const { dir, bundle } = project('sdk');
    writeFileSync(
      join(dir, 'dist/cli/main.js'),
      [
        "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
        'console.log(typeof new DynamoDBClient({}).send, GetItemCommand.name);',
      ].join('\n'),
    );

    // Act
    bundle();
    const code = readFileSync(join(dir, 'dist/cli/matchstream.js'), 'utf8');
    const run = execFileSync(process.execPath, [join(dir, 'dist/cli/matchstream.js')], {
      encoding: 'utf8',
    });

    // Assess: it runs, and DynamoDB's other commands (in its CommonJS build's one file) are out.
    expect(run.trim()).toMatch(/^function GetItemCommand/);
    expect(code).toContain('GetItemCommand');
    expect(code).not.toContain('PutItemCommand');
  }, 60_000);
});
