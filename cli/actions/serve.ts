import { existsSync } from 'node:fs';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { assertPortFree, serveUntilInterrupted, trapSignals } from '../serveLocal.js';

export interface ServeFlags {
  readonly port: number;
  readonly dataDir: string;
  readonly memory?: boolean;
}

/** `matchstream serve`: the query API on the pipeline, until interrupted. */
export async function runServe(flags: ServeFlags): Promise<void> {
  // Before the pipeline starts: a port in use is said at once, not after the boot.
  await assertPortFree(flags.port);
  // A mistyped folder would otherwise be served, empty, without a word.
  if (!flags.memory && !existsSync(flags.dataDir))
    process.stderr.write(`new data folder ${flags.dataDir}: it holds nothing yet\n`);
  // Ctrl-C or SIGTERM while the pipeline boots (its stores opened, the relay finding again
  // what a killed run left) stops it cleanly once booted, as it stops the server later.
  const trap = trapSignals();
  try {
    // What the folder holds and the buses have not carried yet asks for one saga per season,
    // once the pipeline has caught up with it.
    const pipeline = await startPipeline(
      flags.memory ? { memory: true } : { dataDir: flags.dataDir, catchUpHeld: true },
    );
    let stopping = false;
    const stop = () => {
      stopping = true;
      return pipeline.stop();
    };
    if (trap.signalled) return await stop();
    sayFailedCatchUp(pipeline.caughtUp, flags.dataDir, () => stopping);
    await serveUntilInterrupted(
      pipeline,
      flags.port,
      stop,
      flags.memory ? undefined : flags.dataDir,
      trap,
    );
  } finally {
    trap.release();
  }
}

/**
 * The catch-up runs while the server answers, and nothing waits for it: should it fail (a
 * consumer that made no progress for a minute), one line on standard error says so. The sagas
 * are released all the same and the server goes on. A catch-up ended by the server's own
 * stop is not a failure.
 */
export function sayFailedCatchUp(
  caughtUp: Promise<void>,
  dataDir: string,
  stopping: () => boolean,
  write: (line: string) => unknown = (line) => process.stderr.write(line),
): void {
  caughtUp.catch((error: unknown) => {
    if (stopping()) return;
    const reason = error instanceof Error ? error.message : String(error);
    write(
      `catching up with ${dataDir} failed: ${reason}; serving on, automatic recalculations released ("matchstream status" shows each consumer's lag)\n`,
    );
  });
}
