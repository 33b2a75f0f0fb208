import type { IngestStoppedError } from '../../ingest/ingestGames.js';
import { StoreStoppedError } from '../../stream/StoreError.js';
import { CliError, EXIT } from '../exitCodes.js';
import { awsCredentialsLine } from './awsCredentials.js';
import { counted } from './plural.js';

/** What the user can do about a store that stopped, by the reason it gave. */
export function storeStoppedAdvice(stopped: StoreStoppedError): string {
  return /no space left on device|ENOSPC/i.test(stopped.reason ?? '')
    ? 'free some space on its disk, then run the command again'
    : 'run the command again once what stopped it is mended';
}

/**
 * A store that stopped under a command, in one line: the store, its reason, and what to do
 * (`matchstream: the tables' store stopped: IO error: .../000003.log: No space left on device
 * (free some space on its disk, then run the command again)`).
 */
export function storeStoppedLine(stopped: StoreStoppedError): string {
  return `${stopped.message} (${storeStoppedAdvice(stopped)})`;
}

/**
 * An ingest that stopped at a store that stopped, as the command's error: how many of the
 * feed's rows were stored before, and that running it again stores the rest once.
 */
export function ingestStopped(error: IngestStoppedError, feed: string): CliError {
  const { summary, stopped } = error;
  const stored = summary.appended + summary.unchanged + summary.corrected;
  if (!(stopped instanceof StoreStoppedError)) {
    // AWS refusing the credentials (`stopsAll`): said as any --aws command says it.
    const credentials = awsCredentialsLine(stopped);
    return new CliError(
      `${credentials ?? stopped.message}; ${counted(stored, 'row')} of ${feed} stored before, the rest not tried (${credentials ? 'run it again with credentials AWS accepts' : 'run it again once what stopped it is mended'}: a row stored already is not appended twice)`,
      EXIT.FAILURE,
      { cause: error },
    );
  }
  return new CliError(
    `${stopped.message}; ${counted(stored, 'row')} of ${feed} stored before it did, the rest not tried (${storeStoppedAdvice(stopped)}: a row stored already is not appended twice)`,
    EXIT.FAILURE,
    { cause: error },
  );
}
