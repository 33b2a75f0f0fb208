import { busRouterHandler } from '../../pipeline/aws/consumers.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { eventBridgeClient } from '../../stream/aws/eventBridgeClient.js';
import { observed } from './observed.js';

/** Lambda entry point of the bus router: the change stream onto the domain buses. */
export const { handler } = observed(process.env.CONSUMER ?? 'bus-router', (observer) =>
  busRouterHandler(
    process.env,
    { dynamo: dynamoClient(), eventBridge: eventBridgeClient() },
    observer,
  ),
);
