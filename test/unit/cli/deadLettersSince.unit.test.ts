import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../cli/program.js';

/** Parses `dead-letters SUB --since VALUE` without running it: the value, or the error line. */
async function since(
  sub: 'list' | 'redrive',
  value: string,
): Promise<{ since?: string | undefined; error?: string }> {
  const written: string[] = [];
  const program = buildProgram();
  const group = program.commands.find((c) => c.name() === 'dead-letters');
  const command = group?.commands.find((c) => c.name() === sub) as Command;
  command.configureOutput({ writeErr: (s) => written.push(s) });
  command.action(() => {});
  try {
    await program.parseAsync(['dead-letters', sub, '--since', value], { from: 'user' });
  } catch {
    return { error: written.join('') };
  }
  return { since: command.opts<{ since?: string }>().since };
}

describe('dead-letters --since', () => {
  it.each([
    ['2026-09-01', '2026-09-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-09-01T12:00:00Z', '2026-09-01T12:00:00.000Z'],
    ['2026-09-01T12:00:00+02:00', '2026-09-01T10:00:00.000Z'],
  ])('takes %s as %s', async (value, iso) => {
    expect(await since('list', value)).toEqual({ since: iso });
  });

  it.each(['2026-02-30', '2026-02-29', '2026-04-31T08:00:00Z', '2026-13-01', 'yesterday'])(
    'refuses %s, a day that does not exist or no date, rather than reading another day',
    async (value) => {
      for (const sub of ['list', 'redrive'] as const) {
        const { error } = await since(sub, value);
        expect(error).toMatch(/^matchstream: option '--since <time>' argument '.*' is invalid\. /);
      }
    },
  );
});
