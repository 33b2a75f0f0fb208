/** A stored event a scan could not turn into an envelope, or one it held back because of it. */
export interface UnreadableEvent {
  readonly aggregate_id: string;
  readonly sequence: number;
  /** Absent when the item itself is malformed. */
  readonly event_id?: string;
  readonly event_type?: string;
  /** Why: the decode error (code and ids, never the bytes), or the unreadable event before it. */
  readonly error: string;
  /** True for a readable event held back because an earlier event of its stream is not. */
  readonly held_back: boolean;
}

/**
 * What a tolerant scan (replay, rebuild) does with events it cannot read: instead of stopping,
 * it reports each one and skips it, and skips every later event of the same stream too, as the
 * stream's consumers do (they never apply a stream past a gap). A stream is read in sequence
 * order within one scan segment, so its first unreadable event is always seen before the rest.
 * The set of poisoned streams can be saved with a replay's checkpoint and given back on resume.
 */
export class UnreadableEvents {
  private readonly poisoned: Map<string, string>;
  private reported = 0;

  constructor(
    private readonly onUnreadable?: (event: UnreadableEvent) => void,
    /** Streams found poisoned by an earlier, interrupted scan: stream → its first bad event. */
    poisoned: Readonly<Record<string, string>> = {},
  ) {
    this.poisoned = new Map(Object.entries(poisoned));
  }

  /** Why a stream's events are held back, or undefined when it reads fine so far. */
  poisonOf(aggregateId: string): string | undefined {
    return this.poisoned.get(aggregateId);
  }

  /** An event that cannot be read: reported, and its stream held back from here on. */
  unreadable(event: Omit<UnreadableEvent, 'held_back'>): void {
    if (!this.poisoned.has(event.aggregate_id)) {
      const id = event.event_id ? `event ${event.event_id}` : 'the item';
      this.poisoned.set(event.aggregate_id, `${id} at sequence ${event.sequence}`);
    }
    this.report({ ...event, held_back: false });
  }

  /** A readable event after an unreadable one in its stream. */
  heldBack(event: Omit<UnreadableEvent, 'held_back' | 'error'>): void {
    const first = this.poisoned.get(event.aggregate_id) ?? 'an earlier event';
    this.report({
      ...event,
      error: `held back: ${first} of ${event.aggregate_id} cannot be read`,
      held_back: true,
    });
  }

  /** How many events were reported so far (unreadable and held back). */
  get count(): number {
    return this.reported;
  }

  /** The poisoned streams, for a checkpoint. */
  streams(): Record<string, string> {
    return Object.fromEntries(this.poisoned);
  }

  private report(event: UnreadableEvent): void {
    this.reported++;
    this.onUnreadable?.(event);
  }
}
