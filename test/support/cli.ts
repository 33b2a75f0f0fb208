import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built command, as users run it: the package's bin (`npm test` builds it first). */
export const CLI = resolve(root, 'dist/cli/matchstream.js');
/**
 * The same command unbundled, one module a file (tsc's output, which the bin is bundled from):
 * what the kill tests run, since the kill points' preload (chaos/killAt.ts) wraps the SDK's
 * clients where node_modules has them, which the bundle does not load.
 */
export const CLI_MODULES = resolve(root, 'dist/cli/main.js');

export interface CliRun {
  /** The exit code, or null when a signal ended the process (see `signal`). */
  readonly code: number | null;
  /** The signal that ended the process, if one did (a crash shows here, e.g. SIGSEGV). */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A command line run under a file size limit when `fileSizeBlocks` is given: through
 * `/bin/sh`, whose `ulimit -f` sets it (in 512-byte blocks in POSIX shells), then `exec`.
 */
function limited(
  commandLine: readonly string[],
  { fileSizeBlocks }: { fileSizeBlocks?: number },
): readonly string[] {
  return fileSizeBlocks === undefined
    ? commandLine
    : ['/bin/sh', '-c', `ulimit -f ${fileSizeBlocks} && exec "$0" "$@"`, ...commandLine];
}

/** Runs `matchstream ...args` to completion, optionally feeding standard input. */
export function runCli(
  args: readonly string[],
  options: {
    input?: string;
    cwd?: string;
    env?: Readonly<Record<string, string>>;
    /** The entry to run: `CLI` (the default) or `CLI_MODULES`. */
    entry?: string;
    /** A file descriptor standard input reads instead of `input` (a file's, as `< FILE`). */
    stdinFd?: number;
    /** A file descriptor standard output goes to instead of `stdout` (e.g. /dev/full's). */
    stdoutFd?: number;
    /**
     * The largest file the command may write, in the blocks of `/bin/sh`'s `ulimit -f` (512
     * bytes for POSIX shells): a write past it fails with EFBIG, as on a disk that is full.
     */
    fileSizeBlocks?: number;
  } = {},
): Promise<CliRun> {
  const entry = options.entry ?? CLI;
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  const [command, ...commandArgs] = limited([process.execPath, entry, ...args], options);
  const child = spawn(command as string, commandArgs, {
    cwd: options.cwd ?? root,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: [options.stdinFd ?? 'pipe', options.stdoutFd ?? 'pipe', 'pipe'],
  });
  const run = outputOf(child);
  child.stdin?.end(options.input ?? '');
  return run;
}

/**
 * `matchstream ...args`, sent SIGINT as soon as its standard error shows `when`: its exit
 * code, standard error and the seconds from the signal to its exit. Rejects when the command
 * ends before `when` shows.
 */
export function interruptedCli(
  args: readonly string[],
  when: RegExp,
): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  let signalled = 0;
  return new Promise((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (signalled === 0 && when.test(stderr)) {
        signalled = performance.now();
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (signalled === 0) reject(new Error(`ended (${code}) before ${when}: ${stderr}`));
      else resolve({ code, stderr, seconds: (performance.now() - signalled) / 1000 });
    });
  });
}

/** What a child process wrote on standard output and error, and its exit code, once closed. */
export function outputOf(child: ChildProcess): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** A `matchstream serve` the test started (see `serveFolder`). */
export interface ServingFolder {
  /** What it wrote on standard error until it listened. */
  readonly stderr: string;
  /** Where its API listens, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** Sends SIGINT; resolves to its exit code. */
  stop(): Promise<number | null>;
  /** Resolves once it ended by itself (or was stopped): its exit code and all it wrote on standard error. */
  ended(): Promise<{ readonly code: number | null; readonly stderr: string }>;
}

/**
 * `matchstream serve` on a data folder and a free port, once it says where it listens;
 * optionally with a file size limit (`fileSizeBlocks`, as `runCli` takes it).
 */
export async function serveFolder(
  data: string,
  options: { fileSizeBlocks?: number } = {},
): Promise<ServingFolder> {
  const [command, ...args] = limited(
    [process.execPath, CLI, 'serve', '--data-dir', data, '--port', '0'],
    options,
  );
  const child = spawn(command as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/query API on http:\/\/127\.0\.0\.1:\d+/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const listened = stderr;
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    stderr: listened,
    url: /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(listened)?.[1] ?? '',
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
    ended: async () => ({ code: await exited, stderr }),
  };
}
