import type { DeadLetterSources } from '../../pipeline/aws/deadLetterSources.js';
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
  return isGenerationConsumer(name) || consumerNames().includes(name);
}

/** `read-model:<read model>:g<N>` of a read model there is, from g2 on. */
function isGenerationConsumer(name: string): boolean {
  const generation = /^read-model:(.+):g([2-9]|[1-9]\d+)$/.exec(name);
  return generation !== null && READ_MODELS.some((p) => p.name === generation[1]);
}

/**
 * Every name a letter of the deployed stack can have (see `DeadLetterSources`): its stream
 * consumers, `bus:<rule>` of each bus handler, the other queues' roles (`saga-sweep`...), a
 * publish of the bus router (`publish:<bus>`, the deployed bus named `<prefix>-<domain>`), a
 * rebuild's and a later generation's consumer. Shapes with a variable part are given as such.
 */
export function deployedConsumerNames(sources: DeadLetterSources): string[] {
  return [
    ...Object.keys(sources.consumers),
    ...Object.keys(sources.handlers).map((rule) => `bus:${rule}`),
    ...Object.keys(sources.otherQueues),
    'publish:<bus>',
    ...READ_MODELS.map((p) => `rebuild:${p.name}`),
    'read-model:<read model>:g<N>',
  ];
}

/** Whether a letter of the deployed stack could name this consumer. */
export function isDeployedConsumerName(name: string, sources: DeadLetterSources): boolean {
  const publish = /^publish:.+-([a-z]+)$/.exec(name);
  if (publish) return (DOMAINS as readonly string[]).includes(publish[1] ?? '');
  return isGenerationConsumer(name) || deployedConsumerNames(sources).includes(name);
}

/**
 * Refuses (exit 2, with the names) a `--consumer` that no dead letter could name and none of
 * the letters read does: a mistyped name would otherwise take no letter, and say nothing. With
 * `sources`, the names are those of the deployed stack's letters.
 */
export function checkConsumerName(
  consumer: string | undefined,
  letters: readonly { readonly consumer: string }[],
  sources?: DeadLetterSources,
): void {
  if (consumer === undefined) return;
  if (sources ? isDeployedConsumerName(consumer, sources) : isConsumerName(consumer)) return;
  if (letters.some((l) => l.consumer === consumer)) return;
  const names = sources ? deployedConsumerNames(sources) : consumerNames();
  throw new CliError(
    `unknown consumer "${consumer}"; the consumers are ${[...new Set([...names, ...letters.map((l) => l.consumer)])].join(', ')}`,
    EXIT.USAGE,
  );
}
