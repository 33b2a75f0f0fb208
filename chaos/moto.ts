import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A moto_server started for a test file or a chaos scenario. */
export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'install Python moto 5 with its server extra (pip install "moto[server]")';

/**
 * Whether moto_server can run here. Tests that compare against it skip with a message where
 * it is absent, except in CI (`CI=true`), where its absence fails the run.
 */
export function motoAvailable(): boolean {
  const found = motoFound();
  if (!found && process.env.CI === 'true') {
    throw new Error(`moto_server is required in CI and was not found on PATH: ${INSTALL_HINT}`);
  }
  if (!found)
    console.warn(`moto_server not found: tests against moto are skipped (${INSTALL_HINT})`);
  return found;
}

/** Whether moto_server is on the PATH (`INSTALL_HINT` says how to get it). */
export function motoFound(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

/** Starts moto_server on 127.0.0.1 and a free port, and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
