import { fstatSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * True when `a` and `b` name the same file, so that writing one would replace the other: the
 * same device and inode when both exist (a symbolic or hard link to it included), else the
 * same path once resolved (through linked folders, and a dangling link to where it points).
 * A number is an open file descriptor (0: standard input, which may be redirected from a file).
 *
 * @example sameFile('season.csv', './data/../season.csv') // true
 */
export function sameFile(a: string | number, b: string | number): boolean {
  const first = identity(a);
  const second = identity(b);
  if (first && second) return first.dev === second.dev && first.ino === second.ino;
  // One exists and the other does not: writing the other makes a new file.
  if (first || second || typeof a === 'number' || typeof b === 'number') return false;
  return whereWritten(a) === whereWritten(b);
}

function identity(file: string | number): Stats | undefined {
  try {
    return typeof file === 'number' ? fstatSync(file) : statSync(file);
  } catch {
    return undefined;
  }
}

/** Where writing `path`, which does not exist, creates the file. */
function whereWritten(path: string, links = 0): string {
  const absolute = resolve(path);
  try {
    // A dangling symbolic link: the file is made where it points.
    if (links < 40)
      return whereWritten(resolve(dirname(absolute), readlinkSync(absolute)), links + 1);
  } catch {
    // Not a link.
  }
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    // No such folder: nothing can be written there, and the paths compare as they are.
    return absolute;
  }
}
