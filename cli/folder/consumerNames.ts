import { READ_MODELS_CONSUMER } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DOMAINS } from '../../stream/buses/domains.js';

/** The consumers of the change stream in the embedded pipeline. */
export const STREAM_CONSUMERS = [READ_MODELS_CONSUMER, 'bus-router', 'sagas'] as const;

/** The rules of the bus handlers, by bus (what `SagaServices.rules()` registers). */
export const HANDLER_RULES: Readonly<Record<string, string>> = {
  soccer: 'match-event-handler',
  metadata: 'metadata-event-handler',
  calculation: 'calculation-event-handler',
};

/**
 * Every name a dead letter's `consumer` can have in the embedded pipeline: the stream's
 * consumers, a rebuild (`rebuild:<read model>`), a later generation's consumer
 * (`read-model:<read model>:g<N>`), a bus target (`bus:<bus>/<rule>`) and a bus publish
 * (`publish:<bus>`). Shapes with a variable part are given as such, for people.
 */
export function consumerNames(): string[] {
  return [
    ...STREAM_CONSUMERS,
    ...Object.entries(HANDLER_RULES).map(([bus, rule]) => `bus:matchstream-${bus}/${rule}`),
    ...DOMAINS.map((d) => `publish:matchstream-${d}`),
    ...READ_MODELS.map((p) => `rebuild:${p.name}`),
    'read-model:<read model>:g<N>',
  ];
}

/** Whether a dead letter could name this consumer. */
export function isConsumerName(name: string): boolean {
  const generation = /^read-model:(.+):g([2-9]|[1-9]\d+)$/.exec(name);
  if (generation) return READ_MODELS.some((p) => p.name === generation[1]);
  return consumerNames().includes(name);
}
