import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FeedRecord, readFeed } from '../../feeds/readFeed.js';

/**
 * `../shared/reference/rpi` beside the checkout (or `MATCHSTREAM_REFERENCE_DIR`), or undefined
 * where it is absent, so a user's clone skips the reference tests saying why. In CI
 * (`CI=true`) its absence throws instead: a run that skipped them must not pass, as a missing
 * moto_server does not.
 */
export function referenceDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = env.MATCHSTREAM_REFERENCE_DIR ?? resolve(here, '../../../shared/reference/rpi');
  if (existsSync(dir)) return dir;
  if (env.CI === 'true') {
    throw new Error(
      `the RPI reference data is required in CI and is absent: ${dir} (set MATCHSTREAM_REFERENCE_DIR to its path)`,
    );
  }
  return undefined;
}

/** Every record of a CSV file of the reference data, keyed by its (lower-cased) header. */
export async function readReferenceCsv(
  dir: string,
  ...path: string[]
): Promise<Record<string, string>[]> {
  const rows: Record<string, string>[] = [];
  for await (const batch of readFeed(join(dir, ...path), { format: 'csv' })) {
    for (const item of batch) {
      if (item.kind !== 'record') throw new Error(`${path.join('/')}:${item.line}: ${item.reason}`);
      rows.push(stringFields(item));
    }
  }
  return rows;
}

function stringFields(item: FeedRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(item.fields)) out[k] = typeof v === 'string' ? v : '';
  return out;
}

/** Spearman's rank correlation, with tied values given their average rank. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  const rx = ranks(xs);
  const ry = ranks(ys);
  const n = xs.length;
  const mean = (n + 1) / 2;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (rx[i] ?? 0) - mean;
    const dy = (ry[i] ?? 0) - mean;
    cov += dx * dy;
    vx += dx * dx;
    vy += dy * dy;
  }
  return cov / Math.sqrt(vx * vy);
}

function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const result = new Array<number>(values.length).fill(0);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]?.[0] === order[i]?.[0]) j++;
    const average = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) result[order[k]?.[1] ?? 0] = average;
    i = j + 1;
  }
  return result;
}
