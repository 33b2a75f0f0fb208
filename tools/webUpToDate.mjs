// Exits 0 when the built web console (dist/web) is newer than every file of its source (web/),
// 1 otherwise: `npm start` rebuilds the console only when it changed, as `tsc -b` does the rest.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let built;
try {
  built = statSync(join(root, 'dist/web/index.html')).mtimeMs;
} catch {
  process.exit(1);
}
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs;
    return Math.max(latest, time);
  }, 0);
process.exit(newest(join(root, 'web')) <= built ? 0 : 1);
