import { randomUUID } from 'node:crypto';
import { heldBy } from '../breaker/DependencyUnavailable.js';
import type { DeadLetterQueue } from '../consumer/DeadLetterQueue.js';
import type { Log } from '../Log.js';
import type { BusArchive } from './BusArchive.js';
import { type BusEvent, compilePattern, type EventPattern } from './eventPattern.js';

/** A rule's target: an in-process handler. Throwing asks for a retry. */
export type BusHandler = (event: BusEvent) => Promise<void>;

export interface BusRule {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly handler: BusHandler;
}

export interface LocalEventBusOptions {
  readonly deadLetters: DeadLetterQueue;
  /** Keeps every event received, for `replay`. */
  readonly archive?: BusArchive;
  /** Attempts per target before the event is dead-lettered. @default 3 */
  readonly maxAttempts?: number;
  /** Wait before retry n is n times this. @default 50 */
  readonly retryDelayMs?: number;
  /** Events delivered at once. @default 8 */
  readonly concurrency?: number;
  readonly account?: string;
  readonly region?: string;
  /** Where a dead-lettered event is said, as an error (the rule, the event, why; never its data). */
  readonly log?: Log;
}

export interface PutResult {
  /** Target invocations that succeeded. */
  readonly delivered: number;
  /** Target invocations that failed every attempt and were dead-lettered. */
  readonly deadLettered: number;
}

export interface BusStats {
  received: number;
  delivered: number;
  deadLettered: number;
  replayed: number;
  /** Deliveries a target held back (a breaker of its was open), to try again at its trial time. */
  held: number;
}

/**
 * An EventBridge bus in process: rules with event patterns (the EventBridge semantics, see
 * `compilePattern`), each targeting a handler, retried with backoff and dead-lettered with
 * the error when they keep failing; an archive that can be replayed.
 */
export class LocalEventBus {
  readonly stats: BusStats = { received: 0, delivered: 0, deadLettered: 0, replayed: 0, held: 0 };
  private closed = false;
  private readonly rules = new Map<
    string,
    { rule: BusRule; matches: (event: BusEvent) => boolean }
  >();

  constructor(
    readonly name: string,
    private readonly options: LocalEventBusOptions,
  ) {}

  /** Adds a rule (the pattern is checked as PutRule would); returns a function that removes it. */
  register(rule: BusRule): () => void {
    if (this.rules.has(rule.name))
      throw new Error(`bus ${this.name} has a rule named ${rule.name} already`);
    this.rules.set(rule.name, { rule, matches: compilePattern(rule.pattern) });
    return () => {
      this.rules.delete(rule.name);
    };
  }

  /** Whether a rule of this name is registered (what `redeliver` delivers to). */
  hasRule(name: string): boolean {
    return this.rules.has(name);
  }

  /** Receives events (in EventBridge's shape, see `busEvent`), archives them and delivers them. */
  async put(events: readonly BusEvent[]): Promise<PutResult> {
    let delivered = 0;
    let deadLettered = 0;
    await this.options.archive?.add(this.name, events);
    this.stats.received += events.length;
    // Like EventBridge, targets get events concurrently and in no particular order.
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const result = await this.deliver(events[next++] as BusEvent);
        delivered += result.delivered;
        deadLettered += result.deadLettered;
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.concurrency ?? 8, events.length) }, worker),
    );
    return { delivered, deadLettered };
  }

  /**
   * Ends the waits of deliveries held back: each fails with its hold, so the put that carried
   * it fails and its events are published again when the pipeline starts again (the router's
   * records stay in the stream). For shutting down.
   */
  close(): void {
    this.closed = true;
  }

  /** Delivers archived events again (to the rules registered now), marked as replayed. */
  async replay(options: { from?: string; to?: string } = {}): Promise<PutResult> {
    if (!this.options.archive) throw new Error(`bus ${this.name} has no archive`);
    const events = await this.options.archive.between(this.name, options.from, options.to);
    let delivered = 0;
    let deadLettered = 0;
    for (const event of events) {
      this.stats.replayed++;
      const result = await this.deliver({ ...event, 'replay-name': `${this.name}-replay` });
      delivered += result.delivered;
      deadLettered += result.deadLettered;
    }
    return { delivered, deadLettered };
  }

  /** An event in EventBridge's shape, as a bus delivers it to targets. */
  busEvent(entry: { source: string; detailType: string; detail: unknown; time: string }): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account: this.options.account ?? '000000000000',
      time: new Date(entry.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.options.region ?? 'us-east-1',
      resources: [],
      detail: entry.detail,
    };
  }

  private async deliver(event: BusEvent): Promise<PutResult> {
    const matching = [...this.rules.values()].filter((r) => r.matches(event));
    const outcomes = await Promise.all(matching.map(({ rule }) => this.invoke(rule, event)));
    const delivered = outcomes.filter(Boolean).length;
    return { delivered, deadLettered: outcomes.length - delivered };
  }

  /**
   * Hands one event to one rule's target again (a redrive of its dead letter), with the retries
   * of a delivery; throws the last error instead of dead-lettering, for the caller to keep.
   */
  async redeliver(ruleName: string, event: BusEvent): Promise<void> {
    const registered = this.rules.get(ruleName);
    if (!registered) throw new Error(`bus ${this.name} has no rule named ${ruleName}`);
    const error = await this.attempt(registered.rule, event);
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
  }

  private async invoke(rule: BusRule, event: BusEvent): Promise<boolean> {
    const error = await this.attempt(rule, event);
    if (error === undefined) return true;
    this.stats.deadLettered++;
    const letter = {
      consumer: `bus:${this.name}/${rule.name}`,
      error: error instanceof Error ? error.message : String(error),
      attempts: Math.max(1, this.options.maxAttempts ?? 3),
    };
    await this.options.deadLetters.send({ ...letter, event, failed_at: new Date().toISOString() });
    const aggregateId = (event.detail as { aggregate_id?: unknown } | null | undefined)
      ?.aggregate_id;
    this.options.log?.error(
      {
        consumer: letter.consumer,
        event_type: event['detail-type'],
        ...(typeof aggregateId === 'string' ? { aggregate_id: aggregateId } : {}),
        attempts: letter.attempts,
        error: letter.error,
      },
      'bus event dead-lettered',
    );
    return false;
  }

  /** The target's attempts with backoff: undefined once one succeeds, else the last error. */
  private async attempt(rule: BusRule, event: BusEvent): Promise<unknown> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 3);
    let error: unknown;
    for (let attempt = 1; attempt <= maxAttempts; ) {
      try {
        await rule.handler(event);
        this.stats.delivered++;
        return undefined;
      } catch (e) {
        const held = heldBy(e);
        if (held) {
          // A dependency of the target is out: the event waits, as it would in the queue in
          // front of the function on AWS, and no attempt is counted.
          this.stats.held++;
          const until = held.retryAt;
          while (!this.closed && Date.now() < until)
            await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - Date.now()))));
          if (this.closed) throw e;
          continue;
        }
        error = e ?? new Error('the target failed');
        if (attempt < maxAttempts)
          await new Promise((r) => setTimeout(r, (this.options.retryDelayMs ?? 50) * attempt));
        attempt++;
      }
    }
    return error;
  }
}
