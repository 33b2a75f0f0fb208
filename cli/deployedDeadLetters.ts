import { readFileSync } from 'node:fs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  type DeadLetterSources,
  parseDeadLetterSources,
  stackDeadLetterSources,
} from '../pipeline/aws/deadLetterSources.js';
import {
  type DeployedClients,
  type DeployedLetters,
  deployedClients,
  readDeployedLetters,
} from '../pipeline/aws/deployedLetters.js';
import { clientConfig } from '../stream/aws/clientConfig.js';
import type { DeployedFlags } from './deployedOptions.js';
import { CliError, EXIT } from './exitCodes.js';
import { reportError } from './output/errors.js';
import { counted } from './output/plural.js';

/**
 * How long a read holds the queues' messages hidden from other readers (s), renewed while the
 * command runs: a list or show that dies hides nothing for longer.
 */
export const LIST_HOLD_SECONDS = 20;
/** The same for a redrive, which holds them while it applies the letters one by one. */
export const REDRIVE_HOLD_SECONDS = 60;

/** Where the flags say the stack keeps its failures: its output, or the file. */
export async function deadLetterSources(flags: DeployedFlags): Promise<DeadLetterSources> {
  if (flags.sources !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.sources, 'utf8');
    } catch (error) {
      throw new CliError(`${flags.sources}: cannot be read (${(error as Error).message})`);
    }
    try {
      return parseDeadLetterSources(text);
    } catch (error) {
      throw new CliError(`${flags.sources}: ${(error as Error).message}`);
    }
  }
  const client = new CloudFormationClient(clientConfig(clientOptions(flags)));
  try {
    return await stackDeadLetterSources(client, flags.stack ?? '');
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.FAILURE, { cause: error });
  } finally {
    client.destroy();
  }
}

/**
 * Reads the deployed stack's letters and does `work` with them; the queues' messages it holds
 * are let go of afterwards, whatever happened (visible again at once), and the clients closed.
 */
export async function withDeployedLetters<T>(
  flags: DeployedFlags,
  holdSeconds: number,
  work: (
    found: DeployedLetters,
    sources: DeadLetterSources,
    clients: DeployedClients,
  ) => Promise<T>,
): Promise<T> {
  const sources = await deadLetterSources(flags);
  const clients = deployedClients(clientOptions(flags));
  try {
    let found: DeployedLetters;
    try {
      found = await readDeployedLetters(sources, clients, { holdSeconds });
    } catch (error) {
      throw new CliError((error as Error).message, EXIT.FAILURE, { cause: error });
    }
    try {
      for (const note of found.notes) reportError(note);
      return await work(found, sources, clients);
    } finally {
      await found.release();
    }
  } finally {
    clients.destroy();
  }
}

/**
 * The letters that could not be read: one line each, then exit code 3. With --consumer, those
 * of a place that names another consumer (a queue's) are summed up in one line and leave the
 * exit code alone; those of a place that names none (a bucket's objects) count.
 */
export function unreadableLetters(
  found: Pick<DeployedLetters, 'unreadable'>,
  consumer?: string,
): void {
  const others = found.unreadable.filter(
    (u) => consumer !== undefined && u.consumer !== '?' && u.consumer !== consumer,
  );
  if (others.length > 0)
    reportError(
      `${counted(others.length, 'dead letter')} of other consumers could not be read ("matchstream dead-letters list" without --consumer lists them)`,
    );
  const own = found.unreadable.filter((u) => !others.includes(u));
  for (const u of own) reportError(`${u.where}: ${u.error} (letter ${u.id})`);
  if (own.length > 0)
    throw new CliError(
      `${counted(own.length, 'dead letter')} could not be read (listed with why, never redriven)`,
      EXIT.INVALID_INPUT,
    );
}

function clientOptions(flags: DeployedFlags) {
  return flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {};
}
