import { relative } from 'node:path';
import type { DeadLetterDesk } from '../api/QueryService.js';
import { FolderInvocationRecords, failureFolder } from '../stream/local/failureFolder.js';
import {
  type LocalFailurePlaces,
  LocalLetterPlaces,
  readLocalLetters,
} from '../stream/redrive/localLetters.js';
import { redriveLetters } from '../stream/redrive/redriveLetters.js';
import type { EmbeddedPipeline } from './embeddedPipeline.js';
import { embeddedRedriver, pipelineWiring } from './embeddedRedriver.js';

/**
 * The API's dead letters on the embedded pipeline: its dead-letter table and, on a data folder,
 * its `failures/`, read as `matchstream dead-letters list` reads them; a redrive goes through
 * the running pipeline (let settle first and after, as the command does on a folder).
 */
export function pipelineDeadLetters(
  pipeline: EmbeddedPipeline,
  dataDir?: string,
): DeadLetterDesk & Required<Pick<DeadLetterDesk, 'redrive'>> {
  const places: LocalFailurePlaces = {
    table: pipeline.runtime.deadLetters,
    ...(dataDir
      ? {
          folder: {
            records: new FolderInvocationRecords(failureFolder(dataDir)),
            path: failureFolder(dataDir),
          },
        }
      : {}),
  };
  return {
    list: async () => {
      const { letters, unreadable } = await readLocalLetters(places);
      return {
        letters,
        queues: [],
        // What `matchstream dead-letters list` reports and exits 3 for, named within the
        // folder (an answer does not tell the server's paths).
        notes: unreadable.map(
          (u) => `${dataDir ? relative(dataDir, u.where) : u.where}: ${u.error}, left out`,
        ),
      };
    },
    // The command cannot open a folder the server holds: the API's redrive is the way here.
    command: null,
    async redrive(ids) {
      await pipeline.runtime.settle();
      const { letters } = await readLocalLetters(places);
      const chosen = ids.length === 0 ? letters : letters.filter((l) => ids.includes(l.id));
      const summary = await redriveLetters(chosen, {
        redriver: embeddedRedriver(pipelineWiring(pipeline)),
        places: new LocalLetterPlaces(places),
      });
      await pipeline.runtime.settle();
      return summary;
    },
  };
}
