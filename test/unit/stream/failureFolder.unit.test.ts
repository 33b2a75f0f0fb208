import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvocationRecord } from '../../../stream/consumer/invocationRecord.js';
import { FolderInvocationRecords } from '../../../stream/local/failureFolder.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

describe("a data folder's failures/", () => {
  it('lists no record that a process killed while writing it left half written', async () => {
    // Prepare: one record put, and what a kill in the middle of a put leaves.
    const folder = tmp.path('failures');
    const records = new FolderInvocationRecords(folder);
    const record = {
      requestContext: { condition: 'RetryAttemptsExhausted' },
    } as unknown as InvocationRecord;
    await records.put('aws/lambda/a/2026/12/07/whole.json', record);
    const day = join(folder, 'aws', 'lambda', 'a', '2026', '12', '07');
    await writeFile(join(day, 'cut.json.partial'), '{"requestContext": {"condit');

    // Act
    const listed = await records.list();

    // Assess
    expect(listed).toEqual([
      { key: 'aws/lambda/a/2026/12/07/whole.json', body: JSON.stringify(record) },
    ]);
    expect((await readdir(day)).sort()).toEqual(['cut.json.partial', 'whole.json']);
  });
});
