import type { AwsRebuildProgress } from '../../pipeline/aws/rebuildOnAws.js';

/**
 * A line of `rebuild --aws`'s progress: the step the run is in, and what it has done so far
 * (the data files of the export its map applies, the segments its comparison's map
 * compares, or the deferred streams it applies).
 */
export function rebuildProgress(p: AwsRebuildProgress): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const step = `rebuild run: ${p.state ?? 'starting'}`;
  if (p.streams)
    return `${step}, deferred streams ${n(p.streams.done)}/${n(p.streams.total)} applied`;
  const map = p.files;
  const what = { ApplyFiles: 'files', CompareSegments: 'segments' }[p.state ?? ''];
  if (!map || !what) return step;
  const verb = what === 'files' ? 'applied' : 'compared';
  return `${step}, ${what} ${n(map.done)}/${n(map.total)} ${verb}${map.failed ? `, ${n(map.failed)} failed` : ''}`;
}
