import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Mutex } from '../../../stream/Mutex.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('Mutex', () => {
  it('runs one at a time, in order, and goes on after a run that failed', async () => {
    const mutex = new Mutex();
    const seen: string[] = [];
    const step = (name: string, fail = false) =>
      mutex.run(async () => {
        seen.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      });

    const results = await Promise.allSettled([step('a'), step('b', true), step('c')]);

    expect(seen).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('keeps nothing of the last run once its caller let go of the result', async () => {
    // A run's result can be a whole flush of a rebuild: the lock must not hold it after.
    const mutex = new Mutex();
    const run = async () => {
      const result = { rows: Array.from({ length: 1000 }, (_, i) => i) };
      expect(await mutex.run(async () => result)).toBe(result);
      return new WeakRef(result);
    };
    const held = await run();

    // A WeakRef's target stays alive until the current job ends.
    await new Promise((r) => setTimeout(r, 0));
    gc();

    expect(held.deref()).toBeUndefined();
  });
});
