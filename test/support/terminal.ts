import { spawn } from 'node:child_process';
import { CLI } from './cli.js';

export interface TerminalRun {
  readonly code: number | null;
  /** Everything the command wrote to the terminal, standard output and error together. */
  readonly output: string;
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `matchstream ...args` on a pseudo-terminal (util-linux `script`), as a person at a
 * terminal would: standard output and error are TTYs, so progress is drawn.
 */
export function runCliInTerminal(args: readonly string[]): Promise<TerminalRun> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  return runWithOutput(
    'script',
    ['--quiet', '--flush', '--return', '--command', command, '/dev/null'],
    {
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
}

/** Runs a program to its end, with what it wrote to standard output and error together. */
export function runWithOutput(
  program: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<TerminalRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (d: string) => {
      output += d;
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The lines a terminal showed one after another (each redraw of a live line is one). */
export function terminalFrames(output: string): string[] {
  return (
    output
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are the point
      .split(/\r|\n|\u001b\[1G|\u001b\[2K|\u001b\[0K/)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are the point
      .map((frame) => frame.replace(/\u001b(\[[\d;?]*[A-Za-z]|[78])/g, ''))
      .filter((frame) => frame.trim() !== '')
  );
}
