import { describe, expect, it } from 'vitest';
import { sayFailedCatchUp } from '../../../cli/actions/serve.js';

/** Lets the rejection handlers run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("serve's catch-up in the background", () => {
  it('says in one line that it failed, naming the folder and the reason', async () => {
    const lines: string[] = [];
    sayFailedCatchUp(
      Promise.reject(new Error('consumer read-models not idle, and nothing moved for 60000 ms')),
      '/data/season',
      () => false,
      (line) => lines.push(line),
    );
    await turn();

    expect(lines).toEqual([
      'catching up with /data/season failed: consumer read-models not idle, and nothing moved for 60000 ms; serving on, automatic recalculations released ("matchstream status" shows each consumer\'s lag)\n',
    ]);
  });

  it('says nothing when the server stopped it, or when it caught up', async () => {
    const lines: string[] = [];
    sayFailedCatchUp(
      Promise.reject(new Error('the pipeline stopped before it settled')),
      '/data/season',
      () => true,
      (line) => lines.push(line),
    );
    sayFailedCatchUp(
      Promise.resolve(),
      '/data/season',
      () => false,
      (line) => lines.push(line),
    );
    await turn();

    expect(lines).toEqual([]);
  });
});
