import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { pipelineDeadLetters } from '../../../pipeline/deadLetterDesk.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { failureFolder } from '../../../stream/local/failureFolder.js';
import { tempDir } from '../../support/tempDir.js';

// GET /dead-letters of a server on a data folder whose failures/ holds what is no record.
const tmp = tempDir('dead-letter-desk-int-');
const data = tmp.path('data');
let pipeline: EmbeddedPipeline;

beforeAll(async () => {
  pipeline = await startPipeline({ dataDir: data });
  const lambda = join(failureFolder(data), 'aws', 'lambda');
  mkdirSync(lambda, { recursive: true });
  writeFileSync(join(lambda, 'junk'), 'half a record');
  writeFileSync(join(lambda, 'other.json'), '{"not": "an invocation record"}');
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('GET /dead-letters on a data folder', () => {
  it('says which objects of failures/ it could not read and left out, as the command does', async () => {
    // Prepare
    const app = createApi(
      pipeline.queries.with({ deadLetters: pipelineDeadLetters(pipeline, data) }),
      { token: 't' },
    );

    // Act
    const response = await app.request('/dead-letters');
    const body = (await response.json()) as { letters: unknown[]; notes: string[] };

    // Assess: no letter, and both objects named (within the folder, not by the server's path).
    expect(response.status).toBe(200);
    expect(body.letters).toEqual([]);
    expect(body.notes).toEqual([
      'failures/aws/lambda/junk: not JSON, left out',
      'failures/aws/lambda/other.json: not an invocation record, left out',
    ]);
  });
});
