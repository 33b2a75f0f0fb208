import { describe, expect, it } from 'vitest';
import { MAX_INLINE_WAIT_MS, sleepsInPlace } from '../../../pipeline/aws/sagas.js';

describe('sleepsInPlace (a saga function sleeping through a wait itself)', () => {
  const step = 65_000;

  it('sleeps through a wait that fits the invocation with the longest step after it', () => {
    expect(sleepsInPlace(1_000, 0, 200_000, step)).toBe(true);
    expect(sleepsInPlace(MAX_INLINE_WAIT_MS, 0, 200_000, step)).toBe(true);
    expect(sleepsInPlace(1_000, 0, 60_000, step)).toBe(false);
    expect(sleepsInPlace(1_000, 0, undefined, step)).toBe(false);
  });

  it('leaves to the sweep a drive that has slept MAX_INLINE_WAIT_MS in all, one short wait at a time', () => {
    let slept = 0;
    let waits = 0;
    // A start deferred 1 s on at every look, as while results keep arriving.
    while (sleepsInPlace(1_000, slept, 290_000, step)) {
      slept += 1_000;
      waits++;
    }

    expect(waits).toBe(MAX_INLINE_WAIT_MS / 1_000);
    expect(slept).toBe(MAX_INLINE_WAIT_MS);
  });
});
