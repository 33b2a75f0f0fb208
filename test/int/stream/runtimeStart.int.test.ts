import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('runtime-start-');

describe('the embedded runtime, starting its servers together', () => {
  it("says why one of them could not start, and lets go of the other's store", async () => {
    // Prepare: a data folder whose stream folder is a file, so kinesalite cannot start.
    const data = tmp.path('blocked');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'kinesis'), 'not a folder');

    // Act
    const refused = EmbeddedRuntime.start({ dataDir: data });
    await expect(refused).rejects.toThrow(/kinesis/);
    rmSync(join(data, 'kinesis'));
    // The store dynalite opened meanwhile was closed: a runtime on the folder starts.
    const runtime = await EmbeddedRuntime.start({ dataDir: data });
    await runtime.stop();
  }, 60_000);
});
