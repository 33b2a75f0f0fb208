/**
 * Runs several async iterables at once and yields their items as they come, so parallel
 * producers (scan segments) overlap their waits. Stops all of them on the first error or
 * when the consumer stops early.
 */
export async function* mergeAsync<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const pull = (index: number) => {
    const it = iterators[index] as AsyncIterator<T>;
    pending.set(
      index,
      it.next().then((result) => ({ index, result })),
    );
  };
  for (let i = 0; i < iterators.length; i++) pull(i);
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    // Early exit or error: close every source still running.
    await Promise.allSettled(
      [...pending.keys()].map((i) => (iterators[i] as AsyncIterator<T>).return?.()),
    );
  }
}
