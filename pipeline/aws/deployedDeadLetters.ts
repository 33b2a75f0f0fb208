import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DeadLetterDesk } from '../../api/QueryService.js';
import { type DeadLetterSources, stackDeadLetterSources } from './deadLetterSources.js';
import { type DeployedClients, listDeployedLetters } from './deployedLetters.js';

/**
 * How many failure records of the on-failure bucket one listing reads, newest first: each is a
 * GetObject, and the list is a public read. The command reads them all.
 */
export const API_MAX_FAILURE_RECORDS = 200;

/**
 * The API's dead letters on AWS: the places the stack's `DeadLetterSources` output names (read
 * once per function instance, and again after a failed read), listed without taking anything
 * (`listDeployedLetters`). The API does not redrive here: the redrive holds the queues'
 * messages while it re-applies them, which is the operator's command's work, not a public
 * read's; the listing names that command.
 */
export function deployedDeadLetters(
  stack: string,
  clients: Pick<DeployedClients, 'dynamo' | 's3' | 'sqs'> & {
    readonly cloudFormation: CloudFormationClient;
  },
  options: { readonly maxRecords?: number } = {},
): DeadLetterDesk {
  let sources: Promise<DeadLetterSources> | undefined;
  const resolve = () => {
    sources ??= stackDeadLetterSources(clients.cloudFormation, stack).catch((error: unknown) => {
      sources = undefined;
      throw error;
    });
    return sources;
  };
  return {
    list: async () =>
      listDeployedLetters(await resolve(), clients, {
        maxRecords: options.maxRecords ?? API_MAX_FAILURE_RECORDS,
      }),
    command: `matchstream dead-letters redrive --aws --stack ${stack}`,
  };
}
