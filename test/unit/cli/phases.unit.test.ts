import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { PHASE_CHANNEL, type PhaseMessage, type PhaseStream, Phases } from '../../../cli/phases.js';
import { describeCount, shareDone } from '../../../cli/progress.js';

/** A stream that keeps what is written, a terminal or not. */
function screen(isTTY: boolean): PhaseStream & { text: string; columns: number } {
  return {
    isTTY,
    columns: 120,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

/** A clock the test moves. */
function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const ROWS = { unit: 'rows', verb: 'stored' };

describe('describeCount', () => {
  it('says the work done, its rate and the time left from that rate', () => {
    expect(describeCount({ done: 1380, total: 3069, estimated: true }, ROWS, 2)).toBe(
      '1,380 of ~3,069 rows stored, 690 rows/s, ETA 2.4 s',
    );
    expect(describeCount({ done: 0, total: 3069 }, ROWS, 0.5)).toBe('0 of 3,069 rows stored');
    expect(describeCount({ done: 200 }, ROWS, 4)).toBe('200 rows stored, 50 rows/s');
  });

  it('never counts past its total, and a share of an estimate stays within 0..1', () => {
    expect(describeCount({ done: 3100, total: 3069, estimated: true }, ROWS, 10)).toBe(
      '3,100 of ~3,100 rows stored, 310 rows/s, ETA 0.0 s',
    );
    expect(shareDone({ done: 3100, total: 3069 })).toBe(1);
    expect(shareDone({ done: 200 })).toBeUndefined();
  });
});

describe('Phases', () => {
  it('writes plain lines where standard error is no terminal: progress now and then, each end', () => {
    // Prepare
    const out = screen(false);
    const time = clock();
    const phases = new Phases({ stream: out, now: time.now, plainEveryMs: 5000 });

    // Act
    const boot = phases.begin('boot');
    time.advance(800);
    boot.end('the embedded runtime is up');
    const ingest = phases.begin('ingest', ROWS);
    time.advance(1000);
    ingest.progress({ done: 500, total: 3000 });
    time.advance(4000);
    ingest.progress({ done: 2500, total: 3000 });
    time.advance(1000);
    ingest.progress({ done: 3000, total: 3000 });
    ingest.end('3,000 rows stored');
    phases.note('saga 1234: collect_matches completed');

    // Assess
    expect(out.text).toBe(
      [
        'boot: the embedded runtime is up (0.8 s)',
        'ingest: 2,500 of 3,000 rows stored, 500 rows/s, ETA 1.0 s',
        'ingest: 3,000 rows stored (6.0 s)',
        'saga 1234: collect_matches completed',
        '',
      ].join('\n'),
    );
  });

  it('shows nothing when quiet, nor off a terminal when plain lines are not wanted', () => {
    for (const options of [{ quiet: true }, { plain: false }]) {
      const out = screen(false);
      const phases = new Phases({ stream: out, ...options });
      const phase = phases.begin('ingest', ROWS);
      phase.progress({ done: 1, total: 2 });
      phase.end('2 rows stored');
      phases.note('a note');
      phases.close();
      expect(out.text).toBe('');
    }
  });

  it('shows no note once closed: the command has moved on (serving, say)', () => {
    const out = screen(false);
    const phases = new Phases({ stream: out });

    phases.note('saga 1: started');
    phases.close();
    phases.note('saga 2: started');

    expect(out.text).toBe('saga 1: started\n');
  });

  it('on a terminal, draws a live line with a bar, then leaves the line of the finished phase', () => {
    // Prepare
    const out = screen(true);
    const time = clock();
    const phases = new Phases({ stream: out, now: time.now });

    // Act
    const ingest = phases.begin('ingest', ROWS);
    time.advance(2000);
    ingest.progress({ done: 1500, total: 3000 });
    phases.note('a line that stays');
    time.advance(2000);
    ingest.end('3,000 rows stored');
    phases.close();

    // Assess
    expect(out.text).toContain(
      'ingest [============------------]  50% | 1,500 of 3,000 rows stored',
    );
    expect(out.text).toContain('a line that stays\n');
    expect(out.text.endsWith('ingest: 3,000 rows stored (4.0 s)\n')).toBe(true);
    // The cursor is shown again.
    expect(out.text).toContain('\u001b[?25h');
  });

  it('publishes each beginning and end on its diagnostics channel, quiet or not', () => {
    // Prepare
    const seen: PhaseMessage[] = [];
    const listener = (message: unknown) => seen.push(message as PhaseMessage);
    subscribe(PHASE_CHANNEL, listener);
    const out = screen(false);
    try {
      const phases = new Phases({ stream: out, quiet: true });

      // Act
      const boot = phases.begin('boot');
      boot.end('up');
      phases.begin('ingest', ROWS).end();
      phases.close();
    } finally {
      unsubscribe(PHASE_CHANNEL, listener);
    }

    // Assert
    expect(seen).toEqual([
      { phase: 'boot', state: 'begin' },
      { phase: 'boot', state: 'end' },
      { phase: 'ingest', state: 'begin' },
      { phase: 'ingest', state: 'end' },
    ]);
    expect(out.text).toBe('');
  });
});
