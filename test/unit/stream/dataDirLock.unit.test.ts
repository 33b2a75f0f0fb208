import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  announceApi,
  DataDirInUseError,
  dataDirHolder,
  lockDataDir,
} from '../../../stream/local/dataDirLock.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

describe('the data folder lock', () => {
  it('lets one holder at a time in, naming the holder to the others', () => {
    const release = lockDataDir(tmp.dir);

    let refused: unknown;
    try {
      lockDataDir(tmp.dir);
    } catch (error) {
      refused = error;
    }
    release();
    const again = lockDataDir(tmp.dir);
    again();

    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as Error).message).toContain(`(pid ${process.pid}:`);
    // What to do, in so many words.
    expect((refused as Error).message).toMatch(
      new RegExp(
        `: run this when that one has ended, or stop it \\(Ctrl-C where it runs, or kill ${process.pid}\\)$`,
      ),
    );
    expect(existsSync(join(tmp.dir, 'matchstream.lock'))).toBe(false);
  });

  it('takes over a lock left by a process that is gone', () => {
    writeFileSync(
      join(tmp.dir, 'matchstream.lock'),
      JSON.stringify({ pid: 2 ** 22 + 1, command: 'matchstream serve', started_at: 'then' }),
    );

    const release = lockDataDir(tmp.dir);

    release();
    expect(existsSync(join(tmp.dir, 'matchstream.lock'))).toBe(false);
  });

  it('does not take a copy of a held folder for the folder its holder holds', () => {
    // Arrange: a folder held by this process (as a server would, with its API), copied whole
    const held = join(tmp.dir, 'held');
    mkdirSync(held);
    const release = lockDataDir(held);
    announceApi(held, 'http://127.0.0.1:8080');
    const copy = join(tmp.dir, 'copy');
    cpSync(held, copy, { recursive: true });

    // Act
    const copyHolder = dataDirHolder(copy);
    const releaseCopy = lockDataDir(copy);

    // Assess: the copy is nobody's (no command sends its work to the original's server), and
    // is taken; the original stays held
    const takenCopy = JSON.parse(readFileSync(join(copy, 'matchstream.lock'), 'utf8'));
    releaseCopy();
    expect(copyHolder).toBeUndefined();
    expect(takenCopy.pid).toBe(process.pid);
    expect(takenCopy.api).toBeUndefined();
    expect(dataDirHolder(held)?.api).toBe('http://127.0.0.1:8080');
    expect(() => lockDataDir(held)).toThrow(DataDirInUseError);
    release();
  });

  it('still knows a held folder renamed on its disk', () => {
    // Arrange
    const before = join(tmp.dir, 'before');
    mkdirSync(before);
    const release = lockDataDir(before);
    announceApi(before, 'http://127.0.0.1:8080');
    const after = join(tmp.dir, 'after');
    renameSync(before, after);

    // Act
    const holder = dataDirHolder(after);

    // Assess
    release();
    expect(holder?.api).toBe('http://127.0.0.1:8080');
  });
});
