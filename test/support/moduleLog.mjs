// Preloaded with `node --import`: appends every module the process loads (the ESM loader's, and
// at exit the CommonJS ones) to the file $MATCHSTREAM_MODULE_LOG, one file URL a line.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.MATCHSTREAM_MODULE_LOG;
if (log) {
  // The loader hooks run on a thread of their own: they write each URL as it loads.
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (!url.startsWith('node:')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const loaded = Object.keys(require.cache).map((path) => `${pathToFileURL(path).href}\n`);
    appendFileSync(log, loaded.join(''));
  });
}
