import type { DocumentStore, QueryRange } from '../../projections/DocumentStore.js';
import type { Doc, DocKey, StoredDoc } from '../../projections/Projection.js';
import type { SharedBreakerState } from '../../stream/breaker/BreakerStateStore.js';
import type { DeadLetter } from '../../stream/consumer/DeadLetterQueue.js';
import type { ConsumerLag } from '../../stream/local/consumerLag.js';
import { CliError } from '../exitCodes.js';
import { type FolderEventCounts, type FolderReader, refuseWrite } from './FolderReader.js';
import { type DocumentsRequest, FOLDER_ROUTES } from './folderRoutes.js';

/** A data folder read through the local API of the `serve` process that holds it. */
export class RemoteFolderReader implements FolderReader {
  constructor(
    private readonly api: string,
    private readonly token: string,
  ) {}

  documents(table: string): DocumentStore {
    const query = async (pk: string, range: QueryRange | undefined) => {
      const answer = await this.ask<{ documents: StoredDoc[] }>(FOLDER_ROUTES.documents, {
        table,
        query: { pk, ...(range ? { range } : {}) },
      } satisfies DocumentsRequest);
      return answer.documents;
    };
    return {
      getMany: async (keys: readonly DocKey[]) => {
        const answer = await this.ask<{ documents: { key: string; doc: Doc }[] }>(
          FOLDER_ROUTES.documents,
          { table, get: keys } satisfies DocumentsRequest,
        );
        return new Map(answer.documents.map((d) => [d.key, d.doc]));
      },
      query,
      // The API answers a query whole.
      queryPages: async function* (pk, range) {
        yield await query(pk, range);
      },
      write: () => refuseWrite(table),
      update: () => refuseWrite(table),
    };
  }

  async deadLetters(): Promise<DeadLetter[]> {
    return (await this.ask<{ dead_letters: DeadLetter[] }>(FOLDER_ROUTES.deadLetters)).dead_letters;
  }

  async consumerLag(): Promise<ConsumerLag[]> {
    return (await this.ask<{ consumers: ConsumerLag[] }>(FOLDER_ROUTES.consumerLag)).consumers;
  }

  async unrelayedCommits(): Promise<number> {
    return (await this.ask<{ commits: number }>(FOLDER_ROUTES.unrelayedCommits)).commits;
  }

  async breakers(): Promise<SharedBreakerState[]> {
    return (await this.ask<{ breakers: SharedBreakerState[] }>(FOLDER_ROUTES.breakers)).breakers;
  }

  storedEvents(): Promise<FolderEventCounts> {
    return this.ask<FolderEventCounts>(FOLDER_ROUTES.storedEvents);
  }

  private async ask<T>(path: string, body: unknown = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.api), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(
        `the server holding the data folder does not answer at ${this.api}: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        { cause: error },
      );
    }
    if (!response.ok) {
      const answer = (await response.json().catch(() => undefined)) as
        | { error?: { message?: string } }
        | undefined;
      throw new CliError(
        `the server at ${this.api} refused ${path} (${response.status}): ${answer?.error?.message ?? response.statusText}`,
      );
    }
    return (await response.json()) as T;
  }
}
