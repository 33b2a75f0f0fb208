/**
 * A preload that kills its process with SIGKILL at a chosen AWS call, as a crash or an
 * out-of-memory kill would, so a test can stop `matchstream` in the middle of a write at a
 * point that it chose (and can print):
 *
 *   MATCHSTREAM_KILL_AT=BatchWriteItem:matchstream-rm-matches-v2-g2:7 \
 *     node --import ./dist/chaos/killAt.js dist/cli/main.js rebuild --projection matches
 *
 * `OPERATION:TARGET:N` kills the process as soon as the N-th call of that operation on that
 * table or stream (`*`: any) has been answered: its writes are done, the calls sent alongside
 * it (other lanes of the same batch, other streams' appends) are under way, and what the
 * caller meant to do next never happens. A `PutItem` of an event store's commit also counts
 * under `TABLE/KIND`, the kind of its stream (`matchstream-events/saga` for a saga's appends,
 * `matchstream-events/rpi` for a calculation's). Nothing in the product knows of it: it wraps
 * `send` of the SDK's DynamoDB and Kinesis clients, in the main thread only.
 *
 * With `MATCHSTREAM_CALL_TRACE=FILE` (alone or with a kill point), each answered call is
 * appended to FILE as `OPERATION TARGET...`, every target it counts under: a run never killed
 * shows which kill points a run will pass.
 */
import { appendFileSync, writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';

/** The environment variable holding `OPERATION:TARGET:N`. */
export const KILL_AT_VARIABLE = 'MATCHSTREAM_KILL_AT';

/** The environment variable naming the file the calls are traced to. */
export const CALL_TRACE_VARIABLE = 'MATCHSTREAM_CALL_TRACE';

interface KillPoint {
  readonly operation: string;
  readonly target: string;
  readonly call: number;
}

function parse(spec: string): KillPoint {
  const match = /^([A-Za-z]+):([^:]+):([1-9][0-9]*)$/.exec(spec);
  if (!match) throw new Error(`${KILL_AT_VARIABLE}="${spec}" is not OPERATION:TARGET:N`);
  return { operation: match[1] ?? '', target: match[2] ?? '', call: Number(match[3]) };
}

/** The tables or stream a call works on; a commit's `TABLE/KIND` too. */
export function targetsOf(input: Record<string, unknown>): string[] {
  if (typeof input.TableName === 'string') {
    const item = input.Item as { aggregate_id?: { S?: unknown } } | undefined;
    const stream = item?.aggregate_id?.S;
    return typeof stream === 'string' && stream.includes(':')
      ? [input.TableName, `${input.TableName}/${stream.slice(0, stream.indexOf(':'))}`]
      : [input.TableName];
  }
  if (typeof input.StreamName === 'string') return [input.StreamName];
  if (input.RequestItems && typeof input.RequestItems === 'object')
    return Object.keys(input.RequestItems);
  return [];
}

type Send = (command: { input: Record<string, unknown> }, ...rest: unknown[]) => Promise<unknown>;

function arm(point: KillPoint | undefined, trace: string | undefined): void {
  let calls = 0;
  for (const client of [DynamoDBClient, KinesisClient]) {
    const prototype = client.prototype as unknown as { send: Send };
    const send = prototype.send;
    prototype.send = async function (this: unknown, command, ...rest) {
      const operation = command.constructor.name.replace(/Command$/, '');
      const targets = targetsOf(command.input);
      const counted =
        point !== undefined &&
        operation === point.operation &&
        (point.target === '*' || targets.includes(point.target));
      const call = counted ? ++calls : 0;
      const output = await send.call(this, command, ...rest);
      if (trace) appendFileSync(trace, `${operation} ${targets.join(' ')}\n`);
      if (point && call === point.call) {
        writeSync(2, `killed with SIGKILL after ${operation} call ${call} on ${point.target}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      return output;
    };
  }
}

const spec = process.env[KILL_AT_VARIABLE];
const trace = process.env[CALL_TRACE_VARIABLE];
if ((spec || trace) && isMainThread) {
  // The bundled bin carries its own copy of the SDK: wrapping node_modules' would count nothing.
  if (/[\\/]cli[\\/]matchstream\.js$/.test(process.argv[1] ?? ''))
    throw new Error(
      'killAt.js: run the unbundled command (dist/cli/main.js): the bundled bin does not use the SDK clients this preload wraps',
    );
  arm(spec ? parse(spec) : undefined, trace);
}
