import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dynalitesCrc32 } from '../../../stream/local/dynaliteChecksums.js';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { startEmbeddedKinesis } from '../../../stream/local/embeddedKinesis.js';
import {
  type LiveServerThread,
  liveServerThreads,
  SERVER_THREAD_STOPPED_CHANNEL,
  type ThreadSample,
} from '../../../stream/local/serverThread.js';
import { CLI_MODULES } from '../../support/cli.js';
import { tempDir } from '../../support/tempDir.js';

describe('the embedded servers on threads of their own', () => {
  it('each answers with its own heap and CPU time while it runs, and is gone once stopped', async () => {
    // Prepare
    const dynamo = await startEmbeddedDynamo({ thread: true });
    const kinesis = await startEmbeddedKinesis({ thread: true });

    // Act
    const threads = liveServerThreads();
    const samples = await Promise.all(threads.map((t) => t.sample()));
    await dynamo.stop();
    const afterOne = liveServerThreads().map((t) => t.packageName);
    await kinesis.stop();

    // Assess
    expect(threads.map((t) => t.packageName)).toEqual(['dynalite', 'kinesalite']);
    for (const sample of samples) {
      expect(sample.used_heap_size).toBeGreaterThan(0);
      expect(sample.total_heap_size).toBeGreaterThanOrEqual(sample.used_heap_size);
      // Its own thread's time, not the process's: loading its package took some, and less
      // than the process has run in all.
      if (process.platform === 'linux') {
        expect(sample.cpu_seconds).toBeGreaterThan(0);
        const usage = process.cpuUsage();
        expect(sample.cpu_seconds).toBeLessThan((usage.user + usage.system) / 1e6);
      } else expect(sample.cpu_seconds).toBeUndefined();
    }
    expect(afterOne).toEqual(['kinesalite']);
    expect(liveServerThreads()).toEqual([]);
  });

  it('publishes its last sample as it stops, when something listens', async () => {
    // Prepare
    const published: { thread: LiveServerThread; sample: ThreadSample }[] = [];
    const listener = (message: unknown) =>
      published.push(message as { thread: LiveServerThread; sample: ThreadSample });
    subscribe(SERVER_THREAD_STOPPED_CHANNEL, listener);
    try {
      const dynamo = await startEmbeddedDynamo({ thread: true });
      const [thread] = liveServerThreads();
      const running = await thread?.sample();

      // Act
      await dynamo.stop();

      // Assess: the same thread, sampled after the sample taken while it ran.
      expect(published).toHaveLength(1);
      expect(published[0]?.thread).toBe(thread);
      expect(published[0]?.sample.used_heap_size).toBeGreaterThan(0);
      if (process.platform === 'linux')
        expect(published[0]?.sample.cpu_seconds).toBeGreaterThanOrEqual(
          running?.cpu_seconds ?? Number.POSITIVE_INFINITY,
        );
    } finally {
      unsubscribe(SERVER_THREAD_STOPPED_CHANNEL, listener);
    }
  });

  it('answers what was asked before it stopped, and refuses what is asked after', async () => {
    // Prepare
    const dynamo = await startEmbeddedDynamo({ thread: true });
    const [thread] = liveServerThreads();
    if (!thread) throw new Error('no server thread is live');

    // Act: the thread answers its messages in order, so the request before the stop is answered.
    const answered = thread.sample();
    await dynamo.stop();
    const late = thread.sample();

    // Assess
    await expect(answered).resolves.toMatchObject({ used_heap_size: expect.any(Number) });
    await expect(late).rejects.toThrow("the tables' store has stopped");
  });

  it('answers over HTTP with the checksum of its body that buffer-crc32 computes, on its thread or not', async () => {
    const reference = createRequire(import.meta.url)(dynalitesCrc32()) as {
      unsigned(input: string): number;
    };
    for (const thread of [true, false]) {
      const dynamo = await startEmbeddedDynamo({ thread });
      try {
        const asks = [
          { target: 'ListTables', body: {} },
          // An error answer too: dynalite sums it the same way.
          { target: 'DescribeTable', body: { TableName: 'none' } },
        ];
        for (const { target, body } of asks) {
          const response = await fetch(dynamo.endpoint, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': `DynamoDB_20120810.${target}`,
              authorization:
                'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
              'x-amz-date': '20260101T000000Z',
            },
            body: JSON.stringify(body),
          });
          const text = await response.text();
          expect(response.headers.get('x-amz-crc32'), `${target}, thread ${thread}`).toBe(
            String(reference.unsigned(text)),
          );
        }
      } finally {
        await dynamo.stop();
      }
    }
  });

  const tmp = tempDir('server-thread-');

  it('leaves the native addons its threads loaded mapped in the process once the threads end', async () => {
    // Prepare: a process of its own (the built modules), where nothing else loaded LevelDB;
    // both servers on disk, so that each loads its LevelDB addon on its thread.
    const local = (file: string) => new URL(file, pathToFileURL(CLI_MODULES)).href;
    const program = `
      import { readFileSync } from 'node:fs';
      const { startEmbeddedDynamo } = await import(${JSON.stringify(local('../stream/local/embeddedDynamo.js'))});
      const { startEmbeddedKinesis } = await import(${JSON.stringify(local('../stream/local/embeddedKinesis.js'))});
      const { heldServerAddons } = await import(${JSON.stringify(local('../stream/local/serverThread.js'))});
      const dynamo = await startEmbeddedDynamo({ thread: true, dataDir: ${JSON.stringify(tmp.path('tables'))} });
      const kinesis = await startEmbeddedKinesis({ thread: true, dataDir: ${JSON.stringify(tmp.path('stream'))} });
      await dynamo.stop();
      await kinesis.stop();
      const mapped = readFileSync('/proc/self/maps', 'utf8').split('\\n')
        .map((line) => line.split(/\\s+/)[5] ?? '').filter((file) => file.endsWith('.node'));
      console.log(JSON.stringify({ held: heldServerAddons(), mapped: [...new Set(mapped)] }));
    `;

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, [
      tmp.file('addons.mjs', program),
    ]);

    // Assess: LevelDB's own threads (compactions) outlive the server thread, and ran into
    // unmapped code when the thread's end unloaded the addon.
    const { held, mapped } = JSON.parse(stdout) as { held: string[]; mapped: string[] };
    expect(held).toEqual([
      expect.stringMatching(/\/classic-level\/.*\.node$/),
      expect.stringMatching(/\/leveldown\/.*\.node$/),
    ]);
    expect(mapped.sort()).toEqual([...held].sort());
  });

  it('keeps no thread of its own when the server runs on the calling thread', async () => {
    const dynamo = await startEmbeddedDynamo();

    expect(liveServerThreads()).toEqual([]);
    await dynamo.stop();
  });
});

describe('a server thread whose store another process holds', () => {
  const tmp = tempDir('held-stream-');

  it('ends when stopped, though its store says it could not open only after the stop', async () => {
    // Arrange: the folder's change stream held, as a serve holds it; then commands that start
    // on it and stop at once (refused the folder), four at a time
    const holder = await startEmbeddedKinesis({ thread: true, dataDir: tmp.dir });
    const slowest: number[] = [];

    // Act
    try {
      for (let round = 0; round < 8; round++)
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            const refused = await startEmbeddedKinesis({ thread: true, dataDir: tmp.dir });
            const asked = performance.now();
            const stopped = await Promise.race([
              refused.stop().then(() => 'stopped'),
              new Promise((resolve) => setTimeout(resolve, 15_000, 'still running')),
            ]);
            slowest.push(
              stopped === 'stopped' ? performance.now() - asked : Number.POSITIVE_INFINITY,
            );
          }),
        );
    } finally {
      await holder.stop();
    }

    // Assess: each ended, at the latest once a failed server's grace was over (5 s)
    expect(Math.max(...slowest)).toBeLessThan(10_000);
  }, 180_000);
});
