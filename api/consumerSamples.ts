/** A consumer's figures: how far behind it is, and what it applied. */
export interface ConsumerFigures {
  readonly name: string;
  readonly lag_ms: number;
  readonly applied: number;
}

/** The consumers' figures at one moment. */
export interface ConsumerSample {
  readonly at: string;
  readonly consumers: readonly ConsumerFigures[];
}

/**
 * The consumers' lag and applied counts over the last minutes, for `GET /consumers`: sampled
 * every `intervalMs` from the first request on, kept for `keepMs`; sampling stops once nobody
 * has asked for `keepMs` (and starts again at the next request). Its timer never keeps the
 * process alive.
 */
export class ConsumerSamples {
  private readonly kept: ConsumerSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private askedAt = 0;

  constructor(
    private readonly figures: () => Promise<{ readonly consumers: readonly ConsumerFigures[] }>,
    private readonly intervalMs = 5_000,
    private readonly keepMs = 600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The samples kept, oldest first, the newest taken now. */
  async samples(): Promise<ConsumerSample[]> {
    this.askedAt = this.now();
    await this.sample();
    if (!this.timer) {
      this.timer = setInterval(() => {
        if (this.now() - this.askedAt > this.keepMs) {
          clearInterval(this.timer);
          this.timer = undefined;
          return;
        }
        void this.sample().catch(() => undefined);
      }, this.intervalMs);
      this.timer.unref();
    }
    return [...this.kept];
  }

  private async sample(): Promise<void> {
    const { consumers } = await this.figures();
    const at = this.now();
    this.kept.push({ at: new Date(at).toISOString(), consumers });
    while (this.kept.length > 0 && Date.parse(this.kept[0]?.at ?? '') < at - this.keepMs)
      this.kept.shift();
  }
}
