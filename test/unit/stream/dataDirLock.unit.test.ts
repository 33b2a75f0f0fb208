import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../../stream/local/dataDirLock.js';
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
});
