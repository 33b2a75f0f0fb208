import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { type ClientOptions, clientConfig, forOwnServers } from './clientConfig.js';
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
  // Local servers are ACTIVE at once; AWS takes tens of seconds, so the polls slow down.
  const deadline = Date.now() + 300_000;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 2_000)) {
    try {
      const { StreamDescriptionSummary } = await client.send(
        new DescribeStreamSummaryCommand({ StreamName: streamName }),
      );
      if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  throw new Error(`stream ${streamName} did not become active`);
}
