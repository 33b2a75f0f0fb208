import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A patch of a dependency's module as a server thread takes it (`startServerThread`): the
 * source of a self-contained function, and the path of the module it is given.
 */
export interface ModulePatch {
  readonly source: string;
  readonly module: string;
  /** A module whose exports become what the function returns, before anything loads it. */
  readonly replaces?: string;
}

/** The path of the module `path` inside the package `pkg`, as that package resolves it. */
export function dependencyModule(pkg: string, path: string): string {
  return createRequire(require.resolve(pkg)).resolve(path);
}

/** `patch` as a server thread takes it, for the module at `modulePath`. */
export function forThread<M>(patch: (module: M) => unknown, modulePath: string): ModulePatch {
  return { source: patch.toString(), module: modulePath };
}

/** `patch` applied in this process to the module at `modulePath`. */
export function inProcess<M>(patch: (module: M) => void, modulePath: string): void {
  patch(require(modulePath) as M);
}

/**
 * The module at `replacedPath` replaced in this process by what `patch` returns, given the
 * module at `modulePath`. Only what loads it afterwards gets the replacement; nothing is
 * replaced when something has loaded it already, so every copy loaded in the process is the same.
 */
export function replacedInProcess<M, R>(
  patch: (module: M) => R,
  modulePath: string,
  replacedPath: string,
): void {
  const { cache } = require;
  // The cache's key: the file's real path, which a path through a linked package folder is not.
  const replaced = require.resolve(replacedPath);
  if (cache[replaced] !== undefined) return;
  const replacement = patch(require(modulePath) as M);
  require(replaced);
  const entry: NodeJS.Module | undefined = cache[replaced] as NodeJS.Module | undefined;
  if (entry) entry.exports = replacement;
}
