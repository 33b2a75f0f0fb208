import { dataDirHolder } from '../../stream/local/dataDirLock.js';
import { storeDir } from '../../stream/local/openEventStore.js';
import { serverToken } from '../serverToken.js';
import type { FolderReader } from './FolderReader.js';
import { openDataFolder, requireDataFolder } from './LocalFolderReader.js';
import { RemoteFolderReader } from './RemoteFolderReader.js';

/**
 * Reads a data folder: through the `serve` (or `start --serve`) process holding it, when one
 * does, so looking never needs it stopped; else on the folder itself. A folder that does not
 * exist is refused, never created.
 */
export async function withDataFolder<T>(
  dataDir: string,
  work: (reader: FolderReader) => Promise<T>,
): Promise<T> {
  requireDataFolder(dataDir);
  const server = dataDirHolder(storeDir(dataDir))?.api;
  if (server) return work(new RemoteFolderReader(server, serverToken(dataDir)));
  const folder = await openDataFolder(dataDir);
  try {
    return await work(folder.reader);
  } finally {
    await folder.close();
  }
}
