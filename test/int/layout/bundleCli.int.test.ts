import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
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
 * A project of its own for the bundler (tools/bundleCli.mjs copied, node_modules linked): a
 * one-module command in dist/cli/main.js and a lockfile. The real bundle is left alone, since
 * other test files run it meanwhile.
 */
function project(name: string): { dir: string; bundle: () => number } {
  const dir = tmp.path(name);
  mkdirSync(join(dir, 'tools'), { recursive: true });
  mkdirSync(join(dir, 'dist/cli'), { recursive: true });
  copyFileSync(join(root, 'tools/bundleCli.mjs'), join(dir, 'tools/bundleCli.mjs'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
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
  it('is made again when its modules, the lockfile or the bundler changed, and only then', () => {
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
      ['tools/bundleCli.mjs', 30],
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
