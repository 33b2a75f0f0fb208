import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serveUntilInterrupted } from '../../../cli/serveLocal.js';
import { startPipeline } from '../../../pipeline/embeddedPipeline.js';

describe('the local server', () => {
  it('fails in one line naming a port taken after it was checked, and stops the pipeline', async () => {
    // Prepare: a pipeline, and its port taken by someone else meanwhile.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const pipeline = await startPipeline({ memory: true });
    const listeners = process.listenerCount('SIGINT');
    let stopped = 0;

    // Act
    const serving = serveUntilInterrupted(pipeline, port, async () => {
      stopped++;
      await pipeline.stop();
    });

    // Assess
    await expect(serving).rejects.toThrow(
      `port ${port} on 127.0.0.1 is in use (another matchstream serve?): choose another with --port, or --port 0 for a free one`,
    );
    expect(stopped).toBe(1);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
    taken.close();
  });
});
