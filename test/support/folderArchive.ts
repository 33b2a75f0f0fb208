import { FolderStorage } from '../../stream/archive/ArchiveStorage.js';
import { exportTableLocally } from '../../stream/archive/exportTable.js';
import { archiveDir, openEventStore } from '../../stream/local/openEventStore.js';

/**
 * A full export of a data folder's events table into its archive, as `archive export` makes
 * one, dated two minutes on: it covers every commit stored so far, so `archive expire` takes it.
 */
export async function exportDataFolder(data: string): Promise<void> {
  const opened = await openEventStore({ dataDir: data, readOnly: true });
  try {
    await exportTableLocally({
      client: opened.client,
      table: opened.table,
      storage: new FolderStorage(archiveDir(data)),
      prefix: 'events',
      now: () => Date.now() + 120_000,
    });
  } finally {
    await opened.close();
  }
}
