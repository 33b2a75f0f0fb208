import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type ClientOptions, clientConfig } from './clientConfig.js';

export type EventBridgeClientOptions = ClientOptions;

/** An EventBridge client (see `clientConfig` for local endpoints and retries). */
export function eventBridgeClient(options: EventBridgeClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(clientConfig(options));
}
