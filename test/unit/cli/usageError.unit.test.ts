import { describe, expect, it } from 'vitest';
import { buildProgram, usageError } from '../../../cli/program.js';

describe("commander's errors as the command prints them", () => {
  it.each([
    [
      "error: unknown option '--seasn'\n(Did you mean --season?)\n",
      "matchstream: unknown option '--seasn' (Did you mean --season?) (run with --help for usage)",
    ],
    [
      "error: option '--season <label>' argument missing\n",
      "matchstream: option '--season <label>' argument missing (run with --help for usage)",
    ],
  ])('makes %j one line', (text, line) => {
    expect(usageError(text)).toBe(line);
  });

  it('writes one line for a mistyped option of a subcommand, with its suggestion', () => {
    const written: string[] = [];
    const program = buildProgram();
    const rpi = program.commands.find((c) => c.name() === 'rpi');
    rpi?.configureOutput({ writeErr: (s) => written.push(s) });

    expect(() => program.parse(['rpi', 'x.csv', '--seasn', '2026'], { from: 'user' })).toThrow();
    expect(written).toEqual([
      "matchstream: unknown option '--seasn' (Did you mean --season?) (run with --help for usage)\n",
    ]);
  });

  it.each([[['serve']], [['saga', 'start', 'rpi', '--season', '2026']], [['start']]])(
    'refuses --memory with a data folder: %j',
    (args) => {
      const written: string[] = [];
      const program = buildProgram();
      const configure = (c: typeof program): void => {
        c.configureOutput({ writeErr: (s) => written.push(s) });
        for (const sub of c.commands) configure(sub);
      };
      configure(program);

      expect(() =>
        program.parse([...args, '--memory', '--data-dir', 'elsewhere'], { from: 'user' }),
      ).toThrow();
      expect(written).toEqual([
        "matchstream: option '--memory' cannot be used with option '--data-dir <dir>' (run with --help for usage)\n",
      ]);
    },
  );
});
