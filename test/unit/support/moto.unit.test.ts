import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executableOnPath } from '../../support/moto.js';
import { tempDir } from '../../support/tempDir.js';

describe('executableOnPath (how the tests find moto_server)', () => {
  const tmp = tempDir('matchstream-path-');
  const dir = (name: string) => {
    const path = tmp.path(name);
    mkdirSync(path);
    return path;
  };
  const runnable = dir('runnable');
  writeFileSync(join(runnable, 'moto_server'), '#!/bin/sh\n');
  chmodSync(join(runnable, 'moto_server'), 0o755);
  const plain = dir('plain');
  writeFileSync(join(plain, 'moto_server'), '#!/bin/sh\n');
  chmodSync(join(plain, 'moto_server'), 0o644);
  const folder = dir('folder');
  mkdirSync(join(folder, 'moto_server'));
  const empty = dir('empty');

  it('finds an executable file in any directory of the PATH', () => {
    expect(executableOnPath('moto_server', [empty, runnable].join(delimiter))).toBe(true);
    expect(executableOnPath('moto_server', ['', plain, runnable, ''].join(delimiter))).toBe(true);
  });

  it('takes no file it cannot run, no directory of that name, and no empty PATH', () => {
    expect(executableOnPath('moto_server', [plain, folder, empty].join(delimiter))).toBe(false);
    expect(executableOnPath('moto_server', '')).toBe(false);
    expect(executableOnPath('moto_server', `${tmp.path('missing')}${delimiter}`)).toBe(false);
  });
});
