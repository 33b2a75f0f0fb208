import { READ_MODELS_CONSUMER } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DOMAINS } from '../../stream/buses/domains.js';
import { CliError, EXIT } from '../exitCodes.js';

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

/**
 * Refuses (exit 2, with the names) a `--consumer` that no dead letter could name and none of
 * the letters read does: a mistyped name would otherwise take no letter, and say nothing.
 */
export function checkConsumerName(
  consumer: string | undefined,
  letters: readonly { readonly consumer: string }[],
): void {
  if (consumer === undefined || isConsumerName(consumer)) return;
  if (letters.some((l) => l.consumer === consumer)) return;
  throw new CliError(
    `unknown consumer "${consumer}"; the consumers are ${[...new Set([...consumerNames(), ...letters.map((l) => l.consumer)])].join(', ')}`,
    EXIT.USAGE,
  );
}
