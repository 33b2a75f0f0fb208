import { describe, expect, it } from 'vitest';
import { sayFailedCatchUp } from '../../../cli/actions/serve.js';

/** The lines said about a catch-up that ends as `caughtUp` does, the server stopping or not. */
async function linesSaid(caughtUp: Promise<void>, stopping: boolean): Promise<string[]> {
  const lines: string[] = [];
  sayFailedCatchUp(
    caughtUp,
    '/data/season',
    () => stopping,
    (line) => lines.push(line),
  );
  // Lets the rejection handler run.
  await new Promise((resolve) => setImmediate(resolve));
  return lines;
}

describe("serve's catch-up in the background", () => {
  it('says in one line that it failed, naming the folder and the reason', async () => {
    const lines = await linesSaid(
      Promise.reject(new Error('consumer read-models not idle, and nothing moved for 60000 ms')),
      false,
    );

    expect(lines).toEqual([
      'catching up with /data/season failed: consumer read-models not idle, and nothing moved for 60000 ms; serving on, automatic recalculations released ("matchstream status" shows each consumer\'s lag)\n',
    ]);
  });

  it('says nothing when the server stopped it, or when it caught up', async () => {
    const stopped = await linesSaid(
      Promise.reject(new Error('the pipeline stopped before it settled')),
      true,
    );
    const caughtUp = await linesSaid(Promise.resolve(), false);

    expect(stopped).toEqual([]);
    expect(caughtUp).toEqual([]);
  });
});
