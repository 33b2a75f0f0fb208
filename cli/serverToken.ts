import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './exitCodes.js';

/**
 * The write token of the local server, as the commands that go through a server holding their
 * data folder read it: apart from `serveLocal.ts`, so that they load no server to do so.
 */

/** The file that holds the local server's write token, in a data folder. */
export function apiTokenFile(dataDir: string): string {
  return join(dataDir, 'api-token');
}

/** The write token of the server holding the data folder (it wrote it there on start). */
export function serverToken(dataDir: string): string {
  const file = apiTokenFile(dataDir);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new CliError(`the server holding ${dataDir} left no token in ${file}; restart it`);
  }
}
