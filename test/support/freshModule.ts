import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A copy of its own of the CommonJS module at `path` (loaded anew; the cached one stays as it
 * is, for everything else in the process): for patching a dependency's module in a test and
 * comparing it with the module as it comes.
 */
export function freshModule<T>(path: string): T {
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as T;
  } finally {
    if (cached) require.cache[path] = cached;
    else delete require.cache[path];
  }
}
