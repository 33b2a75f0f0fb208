import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A patch of a dependency's module as a server thread takes it (`startServerThread`): the
 * source of a self-contained function, and the path of the module it is given.
 */
export interface ModulePatch {
  readonly source: string;
  readonly module: string;
}

/** The path of the module `path` inside the package `pkg`, as that package resolves it. */
export function dependencyModule(pkg: string, path: string): string {
  return createRequire(require.resolve(pkg)).resolve(path);
}

/** `patch` as a server thread takes it, for the module at `modulePath`. */
export function forThread<M>(patch: (module: M) => void, modulePath: string): ModulePatch {
  return { source: patch.toString(), module: modulePath };
}

/** `patch` applied in this process to the module at `modulePath`. */
export function inProcess<M>(patch: (module: M) => void, modulePath: string): void {
  patch(require(modulePath) as M);
}
