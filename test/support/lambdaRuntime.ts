import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { unzipSync } from 'fflate';

/** A deployed function as Lambda would run it: its code, handler, settings and environment. */
export interface DeployedFunction {
  readonly name: string;
  readonly arn: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Environment.Variables of the deployed configuration. */
  readonly environment: Readonly<Record<string, string>>;
  /** Where its deployment package is unpacked. */
  readonly codeDir: string;
}

/**
 * A deployed function's configuration (GetFunction) and its code: the package is read from the
 * bucket its code location names (moto's location is not a download address, so the object is
 * read from the asset bucket under the key it gives), checked against the function's
 * CodeSha256, and unpacked under `dir`.
 */
export async function fetchFunction(
  clients: { lambda: LambdaClient; s3: S3Client },
  assetBucket: string,
  functionName: string,
  dir: string,
): Promise<DeployedFunction> {
  const { Configuration: config, Code } = await clients.lambda.send(
    new GetFunctionCommand({ FunctionName: functionName }),
  );
  if (!config?.FunctionName || !config.Handler || !Code?.Location)
    throw new Error(`function ${functionName}: no configuration or code location`);
  const key = new URL(Code.Location).pathname.replace(/^\//, '');
  const object = await clients.s3.send(new GetObjectCommand({ Bucket: assetBucket, Key: key }));
  const zip = await object.Body?.transformToByteArray();
  if (!zip) throw new Error(`function ${functionName}: no object ${key} in ${assetBucket}`);
  const sha = createHash('sha256').update(zip).digest('base64');
  if (sha !== config.CodeSha256)
    throw new Error(
      `function ${functionName}: ${key} has CodeSha256 ${sha}, the function ${config.CodeSha256}`,
    );
  const codeDir = join(dir, key.replace(/\.zip$/, ''));
  if (!existsSync(codeDir))
    for (const [path, bytes] of Object.entries(unzipSync(zip))) {
      const target = join(codeDir, path);
      mkdirSync(dirname(target), { recursive: true });
      if (!path.endsWith('/')) writeFileSync(target, bytes);
    }
  return {
    name: config.FunctionName,
    arn: config.FunctionArn ?? '',
    handler: config.Handler,
    timeoutSeconds: config.Timeout ?? 3,
    memoryMb: config.MemorySize ?? 128,
    environment: config.Environment?.Variables ?? {},
    codeDir,
  };
}

// The runtime's side: loads the handler once (a cold start), then runs one invocation at a
// time with a context whose remaining time counts down from the function's timeout.
const BOOTSTRAP = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [dir, spec, timeoutSeconds] = process.argv.slice(1);
const dot = spec.lastIndexOf('.');
const base = spec.slice(0, dot);
const file = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, base + ext)).find((f) => existsSync(f));
const module = await import(pathToFileURL(file).href);
const handler = module[spec.slice(dot + 1)];
process.on('message', async ({ id, event }) => {
  const deadline = Date.now() + Number(timeoutSeconds) * 1000;
  const context = {
    awsRequestId: id,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  try {
    process.send({ id, result: (await handler(event, context)) ?? null });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
// The test process is gone: so is this environment.
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;

/**
 * A deployed function's code running as Lambda runs it, in a Node.js process of its own with the
 * function's environment and no other (plus what Lambda adds: region, credentials, names), kept
 * warm between invocations. `endpoint` points the AWS SDK at moto (`AWS_ENDPOINT_URL`).
 */
export class LambdaProcess {
  private next = 0;
  private readonly pending = new Map<
    string,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private output = '';

  private constructor(
    readonly fn: DeployedFunction,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.keep(d));
    child.stderr?.on('data', (d: Buffer) => this.keep(d));
    child.on('message', (message: { id: string; result?: unknown; error?: string }) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error !== undefined)
        waiting.reject(new Error(`${fn.name} failed: ${message.error}`));
      else waiting.resolve(message.result);
    });
    child.on('exit', (code) => {
      for (const waiting of this.pending.values())
        waiting.reject(new Error(`${fn.name} exited (${code}): ${this.output}`));
      this.pending.clear();
    });
  }

  static start(fn: DeployedFunction, endpoint: string, region: string): Promise<LambdaProcess> {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', BOOTSTRAP, fn.codeDir, fn.handler, String(fn.timeoutSeconds)],
      {
        cwd: fn.codeDir,
        env: {
          PATH: process.env.PATH ?? '',
          ...fn.environment,
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL: endpoint,
          AWS_LAMBDA_FUNCTION_NAME: fn.name,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
          LAMBDA_TASK_ROOT: fn.codeDir,
          _HANDLER: fn.handler,
          TZ: 'UTC',
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const runtime = new LambdaProcess(fn, child);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${fn.name} did not start (${code}): ${runtime.output}`));
      child.once('exit', onExit);
      child.once('message', () => {
        child.off('exit', onExit);
        resolve(runtime);
      });
    });
  }

  /** One synchronous invocation: the handler's result, or its error. */
  invoke(event: unknown): Promise<unknown> {
    const id = `${this.fn.name}-${++this.next}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, event });
    });
  }

  /** What the function wrote (its logs and EMF metrics), the last 20,000 characters. */
  get logs(): string {
    return this.output;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }

  private keep(data: Buffer): void {
    this.output = (this.output + data.toString()).slice(-20_000);
  }
}
