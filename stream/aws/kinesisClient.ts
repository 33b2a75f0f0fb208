import {
  CreateStreamCommand,
  KinesisClient,
  ResourceInUseException,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { type ClientOptions, clientConfig, forOwnServers, UNTIL_ACTIVE } from './clientConfig.js';
import { sendDirectly } from './directKinesis.js';

export type KinesisClientOptions = ClientOptions;

/**
 * A Kinesis client (see `clientConfig`: locally it must speak HTTP/1.1 to kinesalite;
 * `forOwnServers` for this process's own kinesalite, `sendDirectly` for one on a server thread
 * of this process).
 */
export function kinesisClient(options: KinesisClientOptions = {}): KinesisClient {
  const client = forOwnServers(new KinesisClient(clientConfig(options)), options);
  return options.transport && options.endpoint !== undefined
    ? sendDirectly(client, options.transport)
    : client;
}

/**
 * Creates the stream with `shardCount` shards unless it exists (whatever its shard count),
 * and waits until it is ACTIVE. For local endpoints and tests; on AWS the CDK app owns
 * the streams.
 */
export async function ensureStream(
  client: KinesisClient,
  streamName: string,
  shardCount = 1,
): Promise<void> {
  try {
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // The SDK's waiter asks at once, then backs off from 5 ms (`UNTIL_ACTIVE`).
  await waitUntilStreamExists({ client, ...UNTIL_ACTIVE }, { StreamName: streamName }).catch(
    (error: unknown) => {
      throw new Error(
        `stream ${streamName} did not become active: ${String((error as Error).message ?? error)}`,
      );
    },
  );
}
