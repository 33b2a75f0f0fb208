import type { KinesisHandler } from '../../pipeline/aws/consumers.js';
import { generationFeederHandler, generationOfArn } from '../../pipeline/aws/generations.js';
import { generationConsumer } from '../../projections/ReadModelRegistry.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import type { KinesisStreamEvent } from '../../stream/consumer/kinesisEvent.js';
import { observed } from './observed.js';

const client = dynamoClient();
/** One handler per generation this instance was invoked for (through its alias). */
const handlers = new Map<string, Promise<ReturnType<typeof observed>['handler']>>();

/**
 * Lambda entry point of the generation feeder: each event source mapping a rebuild creates
 * invokes it through an alias named after its generation (`<read model>-g<n>`), which tells
 * it which generation to apply the batch to.
 */
export const handler = async (
  event: KinesisStreamEvent,
  context: { readonly invokedFunctionArn: string; getRemainingTimeInMillis(): number },
) => {
  const target = generationOfArn(context.invokedFunctionArn);
  if (!target)
    throw new Error(
      `invoked as ${context.invokedFunctionArn}: the feeder runs only through a generation's alias (<read model>-g<n>)`,
    );
  const key = `${target.projection}:${target.generation}`;
  let built = handlers.get(key);
  if (!built) {
    built = (async () => {
      const consumer = generationConsumer(target.projection, target.generation);
      let inner: KinesisHandler | undefined;
      const wrapped = observed(consumer, (observer) => async (e) => {
        inner ??= await generationFeederHandler(process.env, client, target, observer);
        return inner(e);
      });
      return wrapped.handler;
    })();
    built.catch(() => handlers.delete(key));
    handlers.set(key, built);
  }
  // The invocation's time left tells how long a batch held by a breaker may wait here.
  return (await built)(event, context);
};
