import { channel } from 'node:diagnostics_channel';
import cliProgress, { SingleBar } from 'cli-progress';
import {
  type Count,
  type CountWords,
  describeCount,
  formatSeconds,
  shareDone,
} from './progress.js';

/**
 * The diagnostics channel each phase's beginning and end are published on, shown or not
 * (`--quiet` too): a tool that watches a run from inside its process (a preload, such as the
 * volume benchmark's memory sampler) can tell its phases apart. Published only while someone
 * subscribes.
 */
export const PHASE_CHANNEL = 'matchstream:phase';

/** A message of `PHASE_CHANNEL`. */
export interface PhaseMessage {
  readonly phase: string;
  readonly state: 'begin' | 'end';
}

const phaseChannel = channel(PHASE_CHANNEL);

function publish(message: PhaseMessage): void {
  if (phaseChannel.hasSubscribers) phaseChannel.publish(message);
}

/** Where phases are shown: standard error, or a stream a test holds. */
export interface PhaseStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface PhasesOptions {
  /** @default process.stderr */
  readonly stream?: PhaseStream;
  /** Show nothing (`--quiet`, `--json` runs that want a clean terminal). */
  readonly quiet?: boolean;
  /**
   * Where the stream is not a terminal, write plain lines (each phase's end, and its progress
   * every `plainEveryMs`); false shows nothing there. @default true
   */
  readonly plain?: boolean;
  /** @default 5000 */
  readonly plainEveryMs?: number;
  /** The clock of durations and rates (ms). @default performance.now */
  readonly now?: () => number;
}

/** A stretch of work shown while it runs, then as one line saying what it did. */
export interface Phase {
  /** How far it is. */
  progress(count: Count): void;
  /** Ends it; `summary` becomes the line `name: summary (1.2 s)`, none leaves no line. */
  end(summary?: string): void;
}

/**
 * Shows a command's phases on standard error while standard output stays its result: on a
 * terminal, a live line with a bar (cli-progress) for the running phase and a line that stays
 * for each finished one; elsewhere (a pipe, a CI log) the same finished lines, plain, with a
 * progress line now and then for a long phase.
 */
export class Phases {
  private readonly stream: PhaseStream;
  private readonly tty: boolean;
  private readonly silent: boolean;
  private readonly now: () => number;
  private readonly plainEveryMs: number;
  private bar: SingleBar | undefined;
  private closed = false;
  private live: { name: string; words: CountWords; count?: Count; started: number } | undefined;

  constructor(options: PhasesOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.silent = options.quiet === true || (!this.tty && options.plain === false);
    this.now = options.now ?? (() => performance.now());
    this.plainEveryMs = options.plainEveryMs ?? 5000;
  }

  /** Starts a phase (ending the one still running without a line). */
  begin(name: string, words: CountWords = { unit: 'items', verb: 'done' }): Phase {
    this.hideBar();
    const started = this.now();
    const phase: { name: string; words: CountWords; count?: Count; started: number } = {
      name,
      words,
      started,
    };
    this.live = phase;
    publish({ phase: name, state: 'begin' });
    let lastPlain = started;
    this.showBar();
    return {
      progress: (count) => {
        if (this.live !== phase) return;
        phase.count = count;
        if (this.silent) return;
        if (this.tty) return; // the live line reads the count when it is drawn
        const now = this.now();
        if (now - lastPlain >= this.plainEveryMs) {
          lastPlain = now;
          this.write(`${name}: ${describeCount(count, words, (now - started) / 1000)}`);
        }
      },
      end: (summary) => {
        publish({ phase: name, state: 'end' });
        if (this.live === phase) {
          this.hideBar();
          this.live = undefined;
        }
        if (summary !== undefined)
          this.write(`${name}: ${summary} (${formatSeconds((this.now() - started) / 1000)})`);
      },
    };
  }

  /** A line that stays (such as a saga step that finished), above the live one. */
  note(line: string): void {
    if (this.silent || this.closed) return;
    const wasLive = this.bar !== undefined;
    this.hideBar();
    this.write(line);
    if (wasLive) this.showBar();
  }

  /** A line shown even when the phases are not (a warning), above the live one. */
  interject(line: string): void {
    const wasLive = this.bar !== undefined;
    this.hideBar();
    this.stream.write(`${line}\n`);
    if (wasLive) this.showBar();
  }

  /** Ends whatever is still showing; notes after it are not shown (the command has moved on). */
  close(): void {
    this.hideBar();
    this.live = undefined;
    this.closed = true;
  }

  private write(line: string): void {
    if (!this.silent) this.stream.write(`${line}\n`);
  }

  private liveLine(): string {
    const live = this.live;
    if (!live) return '';
    const seconds = (this.now() - live.started) / 1000;
    if (!live.count) return `${live.name} … ${formatSeconds(seconds)}`;
    const share = shareDone(live.count);
    const bar =
      share === undefined
        ? ''
        : ` [${cliProgress.Format.BarFormat(share, BAR_STYLE)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
    return `${live.name}${bar} | ${describeCount(live.count, live.words, seconds)}`;
  }

  private showBar(): void {
    if (this.silent || !this.tty || !this.live) return;
    this.bar = new SingleBar({
      stream: this.stream as NodeJS.WritableStream,
      format: () => this.liveLine(),
      hideCursor: true,
      clearOnComplete: true,
      linewrap: false,
      fps: 10,
    });
    this.bar.start(1, 0);
  }

  private hideBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

const BAR_STYLE = {
  barsize: 24,
  barCompleteString: '='.repeat(24),
  barIncompleteString: '-'.repeat(24),
  barGlue: '',
} as const;
