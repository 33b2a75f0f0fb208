import { describe, expect, it } from 'vitest';
import { ReadSideMemo } from '../../../api/ReadSideMemo.js';

/** A memo over a hand-moved count, and how often each answer was worked out. */
function memo(max?: number) {
  const count = { value: 0 };
  const worked: string[] = [];
  const m = new ReadSideMemo(() => count.value, max);
  const ask = (key: string) =>
    m.answer(key, async () => {
      worked.push(key);
      return `${key}@${count.value}`;
    });
  return { count, worked, ask, m };
}

describe('answers kept while the read models do not change', () => {
  it('keeps an answer until the count moves, then works it out again', async () => {
    const { count, worked, ask } = memo();
    expect(await ask('standings 2026')).toBe('standings 2026@0');
    expect(await ask('standings 2026')).toBe('standings 2026@0');
    count.value++;
    expect(await ask('standings 2026')).toBe('standings 2026@1');
    expect(worked).toEqual(['standings 2026', 'standings 2026']);
  });

  it('never serves an answer worked out while a write was under way', async () => {
    const count = { value: 0 };
    const m = new ReadSideMemo(() => count.value);
    let release = () => {};
    const first = m.answer('k', async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return 'read during the write';
    });
    // The write ends while the answer is worked out: the count moves after it.
    count.value++;
    release();
    expect(await first).toBe('read during the write');
    expect(await m.answer('k', async () => 'read after the write')).toBe('read after the write');
  });

  it('works an answer out once for the requests that ask for it at once', async () => {
    const { worked, ask } = memo();
    const answers = await Promise.all([ask('a'), ask('a'), ask('a'), ask('b')]);
    expect(answers).toEqual(['a@0', 'a@0', 'a@0', 'b@0']);
    expect(worked).toEqual(['a', 'b']);
  });

  it('keeps no failure: the next request works it out again', async () => {
    const m = new ReadSideMemo(() => 0);
    let attempts = 0;
    const work = async () => {
      attempts++;
      if (attempts === 1) throw new Error('the store is down');
      return 'fine';
    };
    await expect(m.answer('k', work)).rejects.toThrow('the store is down');
    expect(await m.answer('k', work)).toBe('fine');
    expect(attempts).toBe(2);
  });

  it('keeps at most `max` answers, the least recently asked for going first', async () => {
    const { worked, ask } = memo(2);
    await ask('a');
    await ask('b');
    await ask('a');
    await ask('c');
    await ask('a');
    await ask('b');
    expect(worked).toEqual(['a', 'b', 'c', 'b']);
  });

  it('keeps nothing without a count, or when the count is unknown', async () => {
    for (const version of [undefined, () => undefined]) {
      const m = new ReadSideMemo(version);
      let worked = 0;
      const work = async () => ++worked;
      await m.answer('k', work);
      await m.answer('k', work);
      expect(worked).toBe(2);
    }
  });
});
