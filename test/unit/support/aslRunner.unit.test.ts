import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_LIMIT_BYTES, runDefinition } from '../../support/aslRunner.js';

// A definition of one Task, its function returning what the test gives it.
const definition = {
  StartAt: 'Call',
  States: { Call: { Type: 'Task', Resource: 'function:Fn', End: true } },
};
const run = (input: unknown, result: (input: unknown) => unknown) =>
  runDefinition(definition, input, {
    functions: { Fn: async (i: unknown) => result(i) },
    s3: {} as S3Client,
    buckets: {},
    onWait: async () => {},
  });

describe("the state machine runner's payload limit", () => {
  it('passes data of up to 262,144 bytes of UTF-8, as Step Functions does', async () => {
    // `"` + the text + `"`: exactly the limit, in two-byte characters but two.
    const text = `${'é'.repeat((PAYLOAD_LIMIT_BYTES - 4) / 2)}aa`;
    expect(Buffer.byteLength(JSON.stringify(text))).toBe(PAYLOAD_LIMIT_BYTES);

    expect(await run(text, (i) => i)).toBe(text);
  });

  it("fails a task's result over the limit with States.DataLimitExceeded, naming the state", async () => {
    const big = 'x'.repeat(PAYLOAD_LIMIT_BYTES);

    await expect(run({}, () => big)).rejects.toThrow(
      `States.DataLimitExceeded: state Call's result is ${PAYLOAD_LIMIT_BYTES + 2} bytes, over Step Functions' ${PAYLOAD_LIMIT_BYTES}`,
    );
    await expect(run(big, () => 1)).rejects.toThrow("state Call's input");
  });
});
