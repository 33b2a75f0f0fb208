// Bundles the built command (dist/cli/main.js, from tsc) into dist/cli/matchstream.js, the
// package's `bin`: one file and a few lazily loaded chunks beside it, instead of about 300
// modules resolved and read one by one. A command takes about 0.35 s less CPU for it (a tiny
// `matchstream start`: 3.38–3.55 → 3.03–3.15 s; `rpi --help`: 0.15 → 0.11 s of user CPU).
//
// The output stays in dist/cli/, so what the code finds relative to its own module (the web
// console in dist/web/, the schemas, package.json) is where it is for main.js. The servers that
// run on threads (dynalite, kinesalite) and abstract-level, which the runtime patches where
// dynalite loads it, stay packages of node_modules. main.js stays too: the chaos scenarios and
// the volume benchmark preload code that wraps the SDK's clients, which only the unbundled
// command shares with them.
//
// Packages are taken from their ES module builds where they ship one (`module` before `main`),
// so that the bundle keeps only what the command imports of each: an AWS SDK client's ES
// module build is a module per command, its CommonJS build one file of them all. That is a
// fifth less code in all (5.4 → 4.3 MB) and less for each command to load: `saga list` on a
// small folder 0.685 → 0.593 s of CPU, `status` 0.890 → 0.813, a tiny `start` 1.653 → 1.580
// (means of 6 runs each, in turn).
//
// Does nothing when the bundle is newer than every module under dist/, this script, the lockfile
// and npm's record of node_modules (as `tsc -b` does); `--force` bundles anyway. Run by `npm run
// build`, before `npm start`, and by the tests' global setup, so that a bundle older than the
// code is never what runs.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const cli = join(dist, 'cli');
const entry = join(cli, 'main.js');
const bundle = join(cli, 'matchstream.js');
const ours = (name) => name === 'matchstream.js' || name.startsWith('matchstream-');

/** The newest modification time of the modules under `dir` (the bundle's own files apart). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== join(dist, 'web')) latest = Math.max(latest, newest(path));
    } else if (entry.name.endsWith('.js') && !(dir === cli && ours(entry.name))) {
      latest = Math.max(latest, statSync(path).mtimeMs);
    }
  }
  return latest;
}

/**
 * What else the bundle is made from: this script (its options), the lockfile (the packages'
 * versions) and npm's record of what node_modules holds (`node_modules/.package-lock.json`,
 * written by every install that changes the folder, one that leaves the lockfile as it was
 * too: `npm install --no-save`, `npm ci` after a checkout), where they are.
 */
function newestInputs() {
  let latest = 0;
  for (const file of [
    fileURLToPath(import.meta.url),
    join(root, 'package-lock.json'),
    join(root, 'node_modules/.package-lock.json'),
  ]) {
    try {
      latest = Math.max(latest, statSync(file).mtimeMs);
    } catch {
      // Not there: the others decide.
    }
  }
  return latest;
}

function upToDate() {
  try {
    return statSync(bundle).mtimeMs >= Math.max(newest(dist), newestInputs());
  } catch {
    return false;
  }
}

try {
  statSync(entry);
} catch {
  console.error(`bundleCli: ${entry} is missing: run "npm run build" first`);
  process.exit(1);
}
if (process.argv.includes('--force') || !upToDate()) {
  for (const name of readdirSync(cli)) if (ours(name)) rmSync(join(cli, name));
  await build({
    entryPoints: { matchstream: entry },
    outdir: cli,
    chunkNames: 'matchstream-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['dynalite', 'kinesalite', 'abstract-level'],
    // CommonJS packages in an ES module bundle still call require() for Node's modules.
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
