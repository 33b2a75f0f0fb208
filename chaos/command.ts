import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { CALL_TRACE_VARIABLE, KILL_AT_VARIABLE } from './killAt.js';

/** How a `matchstream` run ended. */
export interface CommandRun {
  readonly code: number | null;
  /** True when it was killed with SIGKILL (by `killAfterMs`). */
  readonly killed: boolean;
  readonly stdout: string;
  /** The last 4,000 characters. */
  readonly stderr: string;
}

/**
 * Runs the built `matchstream` (`cli`) with `args`; SIGKILLs it after `killAfterMs` if given,
 * or at the AWS call `killAt` names (`OPERATION:TARGET:N`, see `killAt.ts`); `trace` names a
 * file each answered AWS call is appended to.
 */
export function runMatchstream(
  cli: string,
  args: readonly string[],
  killAfterMs?: number,
  options: { readonly killAt?: string; readonly trace?: string } = {},
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const preload =
      options.killAt || options.trace
        ? ['--import', join(dirname(cli), '..', 'chaos', 'killAt.js')]
        : [];
    const child = spawn(process.execPath, [...preload, cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NO_COLOR: '1',
        ...(options.killAt ? { [KILL_AT_VARIABLE]: options.killAt } : {}),
        ...(options.trace ? { [CALL_TRACE_VARIABLE]: options.trace } : {}),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, killed: signal === 'SIGKILL', stdout, stderr });
    });
  });
}
