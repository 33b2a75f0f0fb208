import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { RedrivableConsumer } from '../../stream/redrive/consumerRedrive.js';
import {
  awsConsumer,
  busRouterEffect,
  type ConsumerEffect,
  type ConsumerEnv,
  readModelsEffect,
  required,
} from './consumers.js';
import { sagaConsumerEffect } from './sagas.js';

interface Clients {
  readonly dynamo: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
}

/**
 * The stream consumers the stack deploys, by their `CONSUMER`: the effect each one's function
 * runs (its entry point in `infra/handlers/` wraps the same in a Kinesis handler).
 */
const DEPLOYED_CONSUMERS: Readonly<
  Record<string, (env: ConsumerEnv, clients: Clients) => ConsumerEffect>
> = {
  'read-models': (env, clients) => readModelsEffect(env, clients.dynamo),
  'bus-router': (env, clients) => busRouterEffect(env, clients),
  sagas: (env, clients) => sagaConsumerEffect(env, clients.dynamo),
};

/**
 * A deployed stream consumer as its function builds it from its environment (what Lambda's
 * GetFunctionConfiguration returns): its positions and sequencer, with its effect. Throws,
 * naming the setting, when the environment does not make one.
 */
export function deployedConsumer(env: ConsumerEnv, clients: Clients): RedrivableConsumer {
  const name = required(env, 'CONSUMER');
  const effect = DEPLOYED_CONSUMERS[name];
  if (!effect)
    throw new Error(
      `CONSUMER "${name}" is none of the deployed consumers (${Object.keys(DEPLOYED_CONSUMERS).join(', ')})`,
    );
  return awsConsumer(env, clients.dynamo, effect(env, clients));
}
