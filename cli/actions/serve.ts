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
  const pipeline = await startPipeline(
    flags.memory ? { memory: true } : { dataDir: flags.dataDir },
  );
  await serveUntilInterrupted(
    pipeline,
    flags.port,
    () => pipeline.stop(),
    flags.memory ? undefined : flags.dataDir,
  );
}
