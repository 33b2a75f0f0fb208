/**
 * The edits that turn `a` into `b`: insertions, deletions, substitutions and swaps of two
 * neighbouring characters (optimal string alignment), so `nuetral` is one edit from `neutral`.
 *
 * @example editDistance('matchid', 'match_id') // 1
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the table: the one before the last, the last, and the one being filled.
  let before: number[] = [];
  let last = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (last[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (last[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] as number) + 1);
      row.push(best);
    }
    before = last;
    last = row;
  }
  return last[b.length] as number;
}

/**
 * The name of `known` that `name` probably meant: the nearest, when it is at most a third of
 * that name's length away (at least 1 edit, at most 2), so a typo is caught and a column of
 * its own (`attendance`) is not taken for one.
 *
 * @example closestName('matchid', ['date', 'match_id']) // 'match_id'
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let closest: string | undefined;
  let distance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    const limit = Math.max(1, Math.min(2, Math.floor(candidate.length / 3)));
    if (d <= limit && d < distance) {
      closest = candidate;
      distance = d;
    }
  }
  return closest;
}
