/** A count with its noun, singular for one: `counted(1, 'row')` is "1 row", 2 gives "2 rows". */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}
