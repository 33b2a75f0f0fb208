import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

// biome-ignore lint/suspicious/noExplicitAny: states and their data are JSON
type Json = any;

/**
 * The definition of a state machine in a synthesized template, with its tokens resolved: a
 * function's `Fn::GetAtt` becomes `function:<logical id>`, a `Ref` the resource's logical id
 * (a bucket's name in moto is then that id), a pseudo parameter a fixed value.
 */
export function definitionOf(template: Json, stateMachineId: string): Json {
  const body = template.Resources[stateMachineId]?.Properties?.DefinitionString;
  if (!body) throw new Error(`no state machine ${stateMachineId} in the template`);
  const text = (part: Json): string => {
    if (typeof part === 'string') return part;
    if (part['Fn::GetAtt']) return `function:${part['Fn::GetAtt'][0]}`;
    if (part.Ref === 'AWS::Partition') return 'aws';
    if (part.Ref === 'AWS::Region') return 'us-east-1';
    if (part.Ref === 'AWS::AccountId') return '123456789012';
    if (part.Ref) return part.Ref;
    if (part['Fn::Join']) return part['Fn::Join'][1].map(text).join(part['Fn::Join'][0]);
    throw new Error(`a token the runner does not know: ${JSON.stringify(part)}`);
  };
  return JSON.parse(text(body));
}

export interface RunnerOptions {
  /** The functions a Task may invoke, by logical id (as `definitionOf` names them). */
  readonly functions: Readonly<Record<string, (input: Json) => Promise<Json>>>;
  /** Where a Distributed Map reads its items and writes its results (the buckets by name). */
  readonly s3: S3Client;
  /** The name a bucket `Ref` resolved to, mapped to the bucket's name in S3. */
  readonly buckets: Readonly<Record<string, string>>;
  /** A Wait state: the runner does not sleep, it tells the clock (and whatever runs meanwhile). */
  readonly onWait: (seconds: number) => void | Promise<void>;
  /** Every state entered, for the test to look at. */
  readonly trace?: string[];
}

/**
 * Runs a state machine's definition (JSONPath, the states this project's state machines use:
 * Task on a Lambda function with Parameters, ResultPath and Retry; Choice on booleans; Wait;
 * a Distributed Map with an S3 JSON item reader and a result writer; Succeed; Fail), calling
 * the project's own handler code for each Task, so that the paths, choices and the map's
 * reading and writing of the definition the CDK synthesized are what is exercised. Not Step
 * Functions: no timeouts, no history, Retry without its waits, and the map's iterations run
 * four at a time in this process. It does hold each state's data to Step Functions' payload
 * limit (`PAYLOAD_LIMIT_BYTES`).
 */
export async function runDefinition(
  definition: Json,
  input: Json,
  options: RunnerOptions & {
    /** The context object's `Execution.Name` (`$$.Execution.Name`). */
    readonly execution?: string;
  },
): Promise<Json> {
  let mapRuns = 0;
  const context = { Execution: { Name: options.execution ?? 'run' } };
  const at = (data: Json, where: string) =>
    where.startsWith('$$.') ? path(context, where.slice(1)) : path(data, where);
  const run = async (machine: Json, start: Json): Promise<Json> => {
    let name: string = machine.StartAt;
    let data = start;
    for (let steps = 0; steps < 10_000; steps++) {
      const state = machine.States[name];
      if (!state) throw new Error(`no state ${name}`);
      options.trace?.push(name);
      withinPayloadLimit(name, 'input', data);
      switch (state.Type) {
        case 'Task': {
          const fn = String(state.Resource).replace(/^function:/, '');
          const handler = options.functions[fn];
          if (!handler) throw new Error(`state ${name}: no function ${fn} given to the runner`);
          const args = state.Parameters ? parameters(state.Parameters, data, at) : data;
          withinPayloadLimit(name, 'parameters', args);
          const result = await withRetry(state.Retry, () => handler(structuredClone(args)));
          withinPayloadLimit(name, 'result', result);
          data = place(data, result, state.ResultPath);
          break;
        }
        case 'Choice': {
          const match = (state.Choices as Json[]).find((c) => {
            if (c.BooleanEquals === undefined) throw new Error(`state ${name}: only BooleanEquals`);
            return path(data, c.Variable) === c.BooleanEquals;
          });
          const next = match?.Next ?? state.Default;
          if (!next) throw new Error(`state ${name}: no choice matched and no Default`);
          name = next;
          continue;
        }
        case 'Wait':
          await options.onWait(state.Seconds);
          break;
        case 'Map': {
          const reader = state.ItemReader;
          const bucket = bucketOf(reader.Parameters, data);
          const key = reader.Parameters['Key.$']
            ? path(data, reader.Parameters['Key.$'])
            : reader.Parameters.Key;
          const items = JSON.parse(await read(options.s3, bucket, key)) as Json[];
          const outputs: Json[] = new Array(items.length);
          let next = 0;
          const worker = async () => {
            for (let i = next++; i < items.length; i = next++)
              outputs[i] = await run(state.ItemProcessor, items[i]);
          };
          await Promise.all(Array.from({ length: 4 }, worker));
          const writer = state.ResultWriter;
          const out = bucketOf(writer.Parameters, data);
          const runId = `run-${++mapRuns}`;
          const prefix = `${writer.Parameters.Prefix}/${runId}`;
          const succeeded = JSON.stringify(
            items.map((item, i) => ({
              ExecutionArn: `arn:aws:states:us-east-1:123456789012:execution:${runId}:${i}`,
              Input: JSON.stringify(item),
              Output: JSON.stringify(outputs[i]),
              Status: 'SUCCEEDED',
            })),
          );
          await write(options.s3, out, `${prefix}/SUCCEEDED_0.json`, succeeded);
          const manifest = {
            DestinationBucket: out,
            MapRunArn: `arn:aws:states:us-east-1:123456789012:mapRun:${runId}`,
            ResultFiles: {
              FAILED: [],
              PENDING: [],
              SUCCEEDED: [{ Key: `${prefix}/SUCCEEDED_0.json`, Size: succeeded.length }],
            },
          };
          await write(options.s3, out, `${prefix}/manifest.json`, JSON.stringify(manifest));
          data = place(
            data,
            {
              MapRunArn: manifest.MapRunArn,
              ResultWriterDetails: { Bucket: out, Key: `${prefix}/manifest.json` },
            },
            state.ResultPath,
          );
          break;
        }
        case 'Succeed':
          return state.OutputPath ? path(data, state.OutputPath) : data;
        case 'Fail':
          throw new Error(`state ${name} failed: ${state.Error ?? ''} ${state.Cause ?? ''}`);
        default:
          throw new Error(`state ${name}: the runner does not run ${state.Type} states`);
      }
      if (state.End) return data;
      name = state.Next;
    }
    throw new Error('more than 10,000 states: a loop that never ends');
  };

  const bucketOf = (params: Json, data: Json): string => {
    const named = params['Bucket.$'] ? path(data, params['Bucket.$']) : params.Bucket;
    return options.buckets[named] ?? named;
  };
  return run(definition, input);
}

/**
 * What Step Functions holds a state's input, a task's parameters and its result to: 262,144
 * bytes of UTF-8 (the API reference's length constraints on `StateEnteredEventDetails.input`,
 * `TaskScheduledEventDetails.parameters`, `TaskSucceededEventDetails.output`); more fails the
 * execution with `States.DataLimitExceeded`.
 */
export const PAYLOAD_LIMIT_BYTES = 262_144;

function withinPayloadLimit(state: string, what: string, data: Json): void {
  const bytes = Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8');
  if (bytes > PAYLOAD_LIMIT_BYTES)
    throw new Error(
      `States.DataLimitExceeded: state ${state}'s ${what} is ${bytes} bytes, over Step Functions' ${PAYLOAD_LIMIT_BYTES}`,
    );
}

async function withRetry(retry: Json[] | undefined, call: () => Promise<Json>): Promise<Json> {
  const attempts = 1 + Math.max(0, ...(retry ?? []).map((r) => Number(r.MaxAttempts ?? 3)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

function path(data: Json, at: string): Json {
  if (at === '$') return data;
  if (!at.startsWith('$.')) throw new Error(`a path the runner does not read: ${at}`);
  return at
    .slice(2)
    .split('.')
    .reduce((value, key) => (value === undefined || value === null ? undefined : value[key]), data);
}

function parameters(template: Json, data: Json, at: (data: Json, where: string) => Json): Json {
  if (Array.isArray(template)) return template.map((t) => parameters(t, data, at));
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([k, v]) =>
      k.endsWith('.$') ? [k.slice(0, -2), at(data, String(v))] : [k, parameters(v, data, at)],
    ),
  );
}

function place(data: Json, result: Json, at: string | undefined | null): Json {
  if (at === undefined || at === '$') return result;
  if (at === null) return data;
  const keys = at.slice(2).split('.');
  const out = structuredClone(data);
  let target = out;
  for (const key of keys.slice(0, -1)) target = target[key] ??= {};
  target[keys.at(-1) as string] = result;
  return out;
}

async function read(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}

async function write(s3: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}
