import { closeSync, linkSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sameFile } from '../../../cli/sameFile.js';
import { tempDir } from '../../support/tempDir.js';

describe('sameFile', () => {
  const tmp = tempDir();
  const feed = tmp.file('feed.csv', 'team\nA\n');
  const other = tmp.file('other.csv', 'team\nA\n');
  mkdirSync(tmp.path('folder'));
  symlinkSync(feed, tmp.path('link.csv'));
  linkSync(feed, tmp.path('hard.csv'));
  symlinkSync(tmp.dir, tmp.path('folder-link'));
  symlinkSync(tmp.path('not-yet.jsonl'), tmp.path('dangling.jsonl'));

  it('knows a file by any of its names: a path spelled otherwise, a symbolic link, a hard link', () => {
    expect(sameFile(feed, feed)).toBe(true);
    expect(sameFile(feed, join(tmp.path('folder'), '..', 'feed.csv'))).toBe(true);
    expect(sameFile(relative(process.cwd(), feed), feed)).toBe(true);
    expect(sameFile(tmp.path('link.csv'), feed)).toBe(true);
    expect(sameFile(feed, tmp.path('hard.csv'))).toBe(true);
    expect(sameFile(join(tmp.path('folder-link'), 'feed.csv'), feed)).toBe(true);
  });

  it('tells two files apart, and a file from one not made yet', () => {
    expect(sameFile(feed, other)).toBe(false);
    expect(sameFile(feed, tmp.path('feed.csv.rejects.jsonl'))).toBe(false);
    expect(sameFile(tmp.path('a.jsonl'), tmp.path('b.jsonl'))).toBe(false);
  });

  it('knows two names of a file not made yet: through a linked folder, or a dangling link', () => {
    expect(sameFile(tmp.path('new.csv'), join(tmp.path('folder-link'), 'new.csv'))).toBe(true);
    expect(sameFile(tmp.path('dangling.jsonl'), tmp.path('not-yet.jsonl'))).toBe(true);
    expect(sameFile(tmp.path('no/such/x'), tmp.path('no/such/x'))).toBe(true);
  });

  it('knows the file an open descriptor reads (standard input redirected from it)', () => {
    const fd = openSync(feed, 'r');
    try {
      expect(sameFile(fd, feed)).toBe(true);
      expect(sameFile(fd, other)).toBe(false);
      expect(sameFile(fd, tmp.path('new.csv'))).toBe(false);
    } finally {
      closeSync(fd);
    }
  });
});
