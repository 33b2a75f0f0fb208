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
// Does nothing when the bundle is newer than every module under dist/ (as `tsc -b` does);
// `--force` bundles anyway. Run by `npm run build`, before `npm start`, and by the tests'
// global setup, so that a bundle older than the code is never what runs.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

function upToDate() {
  try {
    return statSync(bundle).mtimeMs >= newest(dist);
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
    external: ['dynalite', 'kinesalite', 'abstract-level'],
    // CommonJS packages in an ES module bundle still call require() for Node's modules.
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
