import { describe, expect, it } from 'vitest';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { startEmbeddedKinesis } from '../../../stream/local/embeddedKinesis.js';
import { liveServerThreads } from '../../../stream/local/serverThread.js';

describe('the embedded servers on threads of their own', () => {
  it('each answers with its own heap while it runs, and is gone once stopped', async () => {
    // Prepare
    const dynamo = await startEmbeddedDynamo({ thread: true });
    const kinesis = await startEmbeddedKinesis({ thread: true });

    // Act
    const threads = liveServerThreads();
    const heaps = await Promise.all(threads.map((t) => t.heap()));
    await dynamo.stop();
    const afterOne = liveServerThreads().map((t) => t.packageName);
    await kinesis.stop();

    // Assess
    expect(threads.map((t) => t.packageName)).toEqual(['dynalite', 'kinesalite']);
    for (const heap of heaps) {
      expect(heap.used_heap_size).toBeGreaterThan(0);
      expect(heap.total_heap_size).toBeGreaterThanOrEqual(heap.used_heap_size);
    }
    expect(afterOne).toEqual(['kinesalite']);
    expect(liveServerThreads()).toEqual([]);
  });

  it('answers what was asked before it stopped, and refuses what is asked after', async () => {
    // Prepare
    const dynamo = await startEmbeddedDynamo({ thread: true });
    const [thread] = liveServerThreads();
    if (!thread) throw new Error('no server thread is live');

    // Act: the thread answers its messages in order, so the request before the stop is answered.
    const answered = thread.heap();
    await dynamo.stop();
    const late = thread.heap();

    // Assess
    await expect(answered).resolves.toMatchObject({ used_heap_size: expect.any(Number) });
    await expect(late).rejects.toThrow('dynalite thread has stopped');
  });

  it('keeps no thread of its own when the server runs on the calling thread', async () => {
    const dynamo = await startEmbeddedDynamo();

    expect(liveServerThreads()).toEqual([]);
    await dynamo.stop();
  });
});
