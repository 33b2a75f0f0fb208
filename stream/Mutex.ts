/** One at a time: each `run` starts once the ones before it have settled. */
export class Mutex {
  /** Settles when the last run does, with nothing: it must not keep that run's result alive. */
  private tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}
