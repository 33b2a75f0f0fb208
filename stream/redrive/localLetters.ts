import { join } from 'node:path';
import type {
  DeadLetter,
  DynamoDeadLetterQueue,
  StoredDeadLetter,
} from '../consumer/DeadLetterQueue.js';
import { type InvocationRecord, isInvocationRecord } from '../consumer/invocationRecord.js';
import type { FolderInvocationRecords } from '../local/failureFolder.js';
import {
  joinLetters,
  type Letter,
  type LetterCopy,
  letterOfDeadLetter,
  letterOfInvocation,
  localConsumerOf,
  type RedriveNote,
} from './Letter.js';
import type { LetterPlaces } from './redriveLetters.js';

/** A data folder's failures: its dead-letter table and its `failures/` folder. */
export interface LocalFailurePlaces {
  /** The dead-letter table (absent: none, such as a store in memory). */
  readonly table?: DynamoDeadLetterQueue;
  /** The folder of invocation records (absent: none). */
  readonly folder?: { readonly records: FolderInvocationRecords; readonly path: string };
}

/** An object of `failures/` that is not an invocation record: reported, never redriven. */
export interface UnreadableObject {
  /** Its key under `failures/`. */
  readonly key: string;
  readonly where: string;
  readonly error: string;
}

/**
 * The letters of a data folder (or any letters of a dead-letter table, given as read through
 * a server): the table's letters and the folder's invocation records as one list, a failure
 * kept in both joined into one letter.
 */
export function lettersOf(
  stored: readonly (StoredDeadLetter | DeadLetter)[],
  objects: readonly { key: string; body: string }[],
  folderPath: string,
  table = 'dead-letter table',
): { letters: Letter[]; unreadable: UnreadableObject[] } {
  const letters: Letter[] = [];
  const unreadable: UnreadableObject[] = [];
  for (const s of stored) {
    const { letter, key } = 'letter' in s && 'key' in s ? s : { letter: s, key: undefined };
    letters.push(
      letterOfDeadLetter(letter, {
        where: key ? `${table} ${key.consumer} ${key.id}` : table,
        handle: key ? JSON.stringify(key) : '',
      }),
    );
  }
  for (const { key, body } of objects) {
    const where = join(folderPath, key);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      unreadable.push({ key, where, error: 'not JSON' });
      continue;
    }
    if (!isInvocationRecord(parsed)) {
      unreadable.push({ key, where, error: 'not an invocation record' });
      continue;
    }
    letters.push(
      letterOfInvocation(
        parsed,
        { place: 'failure-folder', where, handle: key },
        localConsumerOf(parsed.requestContext.functionArn),
      ),
    );
  }
  return { letters: joinLetters(letters), unreadable };
}

/** Reads every letter of a data folder's places. */
export async function readLocalLetters(
  places: LocalFailurePlaces,
): Promise<{ letters: Letter[]; unreadable: UnreadableObject[] }> {
  const [stored, objects] = await Promise.all([
    places.table ? places.table.entries() : [],
    places.folder ? places.folder.records.list() : [],
  ]);
  return lettersOf(stored, objects, places.folder?.path ?? '');
}

/** Removes and rewrites letters in a data folder's places (see `LetterPlaces`). */
export class LocalLetterPlaces implements LetterPlaces {
  constructor(
    private readonly places: LocalFailurePlaces,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async remove(letter: Letter): Promise<void> {
    for (const copy of letter.copies) {
      if (copy.place === 'dead-letter-table')
        await this.table(copy).remove(JSON.parse(copy.handle));
      else if (copy.place === 'failure-folder') await this.folder(copy).remove(copy.handle);
      else throw new Error(`a local redrive cannot remove a letter kept in ${copy.where}`);
    }
  }

  async failedAgain(letter: Letter, error: string): Promise<void> {
    const at = this.now().toISOString();
    for (const copy of letter.copies) {
      if (copy.place === 'dead-letter-table') {
        const kept = copy.kept as DeadLetter;
        await this.table(copy).replace(JSON.parse(copy.handle), {
          ...kept,
          error,
          attempts: letter.attempts + 1,
          redriven_at: at,
        });
      } else if (copy.place === 'failure-folder') {
        const kept = copy.kept as InvocationRecord;
        const note: RedriveNote = {
          error,
          attempts: letter.attempts + 1,
          redriven_at: at,
        };
        await this.folder(copy).put(copy.handle, { ...kept, redrive: note } as InvocationRecord);
      } else throw new Error(`a local redrive cannot rewrite a letter kept in ${copy.where}`);
    }
  }

  private table(copy: LetterCopy): DynamoDeadLetterQueue {
    if (!this.places.table || copy.handle === '')
      throw new Error(`no dead-letter table to change ${copy.where} in`);
    return this.places.table;
  }

  private folder(copy: LetterCopy): FolderInvocationRecords {
    if (!this.places.folder) throw new Error(`no failures folder to change ${copy.where} in`);
    return this.places.folder.records;
  }
}
