import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type Output,
} from '@aws-sdk/client-cloudformation';
import { REGION_SOURCES } from '../../stream/aws/clientConfig.js';

/**
 * Every place the deployed stack keeps what failed, as its `DeadLetterSources` output holds it
 * (JSON): what `matchstream dead-letters --aws` lists and redrives.
 */
export interface DeadLetterSources {
  /** The event store every letter's events are read from. */
  readonly eventsTable: string;
  /** The stream consumers' on-failure bucket (Lambda invocation records of Kinesis batches). */
  readonly failureBucket: string;
  /** The dead-letters table: the bus router's refused PutEvents entries, consumers' letters. */
  readonly deadLettersTable: string;
  /** Each stream consumer's function by its `CONSUMER` name (its environment builds it). */
  readonly consumers: Readonly<Record<string, string>>;
  /**
   * Each bus handler by its rule name: its function, and its dead-letter queue's URL (what its
   * rule could not deliver, and what its inbox gave up on after the queue's receive count).
   */
  readonly handlers: Readonly<
    Record<string, { readonly function: string; readonly deadLetters: string }>
  >;
  /** Queues listed but never redriven, by what they keep (the saga sweep's invocations). */
  readonly otherQueues: Readonly<Record<string, string>>;
}

/** The stack output that holds the sources. */
export const DEAD_LETTER_SOURCES_OUTPUT = 'DeadLetterSources';

/** The sources from the output's text, each field checked; throws naming what is wrong. */
export function parseDeadLetterSources(text: string): DeadLetterSources {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${DEAD_LETTER_SOURCES_OUTPUT}: not JSON (${error instanceof Error ? error.message : error})`,
    );
  }
  const at = (field: string) => `${DEAD_LETTER_SOURCES_OUTPUT}.${field}`;
  const object = (v: unknown, field: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new Error(`${at(field)}: expected an object`);
    return v as Record<string, unknown>;
  };
  const text_ = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v === '') throw new Error(`${at(field)}: expected a name`);
    return v;
  };
  const names = (v: unknown, field: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(object(v, field)).map(([k, x]) => [k, text_(x, `${field}.${k}`)]),
    );
  const root = object(value, '');
  return {
    eventsTable: text_(root.eventsTable, 'eventsTable'),
    failureBucket: text_(root.failureBucket, 'failureBucket'),
    deadLettersTable: text_(root.deadLettersTable, 'deadLettersTable'),
    consumers: names(root.consumers, 'consumers'),
    handlers: Object.fromEntries(
      Object.entries(object(root.handlers, 'handlers')).map(([rule, h]) => {
        const handler = object(h, `handlers.${rule}`);
        return [
          rule,
          {
            function: text_(handler.function, `handlers.${rule}.function`),
            deadLetters: text_(handler.deadLetters, `handlers.${rule}.deadLetters`),
          },
        ];
      }),
    ),
    otherQueues: names(root.otherQueues ?? {}, 'otherQueues'),
  };
}

/**
 * The sources of a deployed stack, from its `DeadLetterSources` output (CloudFormation
 * DescribeStacks). Throws naming the stack: not found, or without the output (deployed before
 * the output was), or an output that does not parse.
 */
export async function stackDeadLetterSources(
  client: CloudFormationClient,
  stack: string,
): Promise<DeadLetterSources> {
  let outputs: Output[];
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    outputs = Stacks[0]?.Outputs ?? [];
  } catch (error) {
    // DescribeStacks answers a stack that does not exist (here: in this region) with a
    // ValidationError, "Stack with id NAME does not exist".
    if (
      error instanceof Error &&
      error.name === 'ValidationError' &&
      /does not exist/.test(error.message)
    )
      throw new Error(
        `no stack "${stack}" in ${await client.config.region()}: give the name of the deployed stack with --stack (and its region with ${REGION_SOURCES}), or its DeadLetterSources output with --sources FILE`,
        { cause: error },
      );
    throw new Error(
      `the stack ${stack} cannot be described: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  const output = outputs.find((o) => o.OutputKey === DEAD_LETTER_SOURCES_OUTPUT);
  if (output?.OutputValue === undefined)
    throw new Error(
      `the stack ${stack} has no output ${DEAD_LETTER_SOURCES_OUTPUT} (deployed by an older version: deploy it again, or give --sources FILE)`,
    );
  try {
    return parseDeadLetterSources(output.OutputValue);
  } catch (error) {
    throw new Error(`the stack ${stack}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
}
