import { existsSync } from 'node:fs';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { assertPortFree, serveUntilInterrupted } from '../serveLocal.js';

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
  // What the folder holds and the buses have not carried yet asks for one saga per season,
  // once the pipeline has caught up with it.
  const pipeline = await startPipeline(
    flags.memory ? { memory: true } : { dataDir: flags.dataDir, catchUpHeld: true },
  );
  await serveUntilInterrupted(
    pipeline,
    flags.port,
    () => pipeline.stop(),
    flags.memory ? undefined : flags.dataDir,
  );
}
