import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { BUS_HANDLER_NAMES, BUS_HANDLERS } from '../../sagas/handlers/busHandlers.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import type { RedrivableConsumer } from '../../stream/redrive/consumerRedrive.js';
import type { Redriver } from '../../stream/redrive/redriveLetters.js';
import { deployedEventStore } from '../seasons.js';
import { awsRedriver } from './awsRedriver.js';
import { busNamesOf, type ConsumerEnv } from './consumers.js';
import type { DeadLetterSources } from './deadLetterSources.js';
import { deployedConsumer } from './deployedConsumers.js';
import { type DeployedClients, notRedrivenReason } from './deployedLetters.js';
import { busEventHandler } from './sagas.js';

/**
 * The redrive of the deployed stack's letters through the code its functions run, each built
 * from its function's own configuration (Lambda's GetFunctionConfiguration): a stream
 * consumer's letter through that consumer (`deployedConsumer`), a bus handler's through
 * `busEventHandler`, a publish's through the bus router's publisher onto its `BUS_NAMES`. The
 * letters of `otherQueues` are not redriven.
 */
export function deployedRedriver(sources: DeadLetterSources, clients: DeployedClients): Redriver {
  const environments = new Map<string, Promise<ConsumerEnv>>();
  const environmentOf = (fn: string): Promise<ConsumerEnv> => {
    let env = environments.get(fn);
    if (!env) {
      env = clients.lambda
        .send(new GetFunctionConfigurationCommand({ FunctionName: fn }))
        .then((c) => c.Environment?.Variables ?? {})
        .catch((error: unknown) => {
          throw new Error(`the configuration of function ${fn} cannot be read: ${message(error)}`);
        });
      environments.set(fn, env);
    }
    return env;
  };
  // The letters' events are read as the functions read them: the expired seasons' from the
  // archive their configuration names (`ARCHIVE_BUCKET`, the same for every function).
  const first = [
    ...Object.values(sources.consumers),
    ...Object.values(sources.handlers).map((h) => h.function),
  ][0];
  let opened: Promise<Pick<EventStore, 'read'>> | undefined;
  const storeOf = () => {
    opened ??= (async () => {
      const env: ConsumerEnv = first ? await environmentOf(first).catch(() => ({})) : {};
      return deployedEventStore(
        env.ARCHIVE_BUCKET ? { ARCHIVE_BUCKET: env.ARCHIVE_BUCKET } : {},
        {
          client: clients.dynamo,
          table: sources.eventsTable,
          registry: SchemaRegistry.fromDirectory(),
        },
        clients.s3,
      );
    })();
    return opened;
  };
  const store: Pick<EventStore, 'read'> = {
    read: async (aggregateId, options) => (await storeOf()).read(aggregateId, options),
  };
  const consumers = new Map<string, Promise<RedrivableConsumer | string | undefined>>();
  const handlers = new Map<string, Promise<Awaited<ReturnType<typeof handlerOf>>>>();
  const handlerOf = async (rule: string) => {
    const handler = sources.handlers[rule];
    const name = BUS_HANDLER_NAMES.find((n) => BUS_HANDLERS[n].rule === rule);
    if (!handler || !name) return `no bus handler of rule ${rule} in the stack`;
    try {
      const env = await environmentOf(handler.function);
      if (env.BUS_HANDLER !== undefined && env.BUS_HANDLER !== name)
        return `the function ${handler.function} runs the ${env.BUS_HANDLER} handler, not ${name}`;
      return busEventHandler(name, env, clients.dynamo);
    } catch (error) {
      return message(error);
    }
  };
  const otherConsumers = new Set(Object.keys(sources.otherQueues));
  return awsRedriver({
    store,
    eventBridge: clients.eventBridge,
    buses: async () => {
      const router = sources.consumers['bus-router'];
      if (!router) throw new Error('the stack names no bus-router function');
      return busNamesOf(await environmentOf(router));
    },
    consumer: (name) => {
      let consumer = consumers.get(name);
      if (!consumer) {
        const fn = sources.consumers[name];
        consumer = fn
          ? environmentOf(fn)
              .then((env) => deployedConsumer(env, clients))
              .catch((error: unknown) => `the consumer ${name} cannot be built: ${message(error)}`)
          : Promise.resolve(undefined);
        consumers.set(name, consumer);
      }
      return consumer;
    },
    busHandler: (rule) => {
      let handler = handlers.get(rule);
      if (!handler) {
        handler = handlerOf(rule);
        handlers.set(rule, handler);
      }
      return handler;
    },
    notRedriven: (letter) =>
      otherConsumers.has(letter.consumer) ? notRedrivenReason(letter.consumer) : undefined,
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
