import { describe, expect, it } from 'vitest';
import {
  HANDLER_RULES,
  isConsumerName,
  STREAM_CONSUMERS,
} from '../../../cli/folder/consumerNames.js';
import { startPipeline } from '../../../pipeline/embeddedPipeline.js';

describe('the consumer names inspect --dead-letters accepts', () => {
  it('are those the embedded pipeline runs', async () => {
    // Prepare
    const pipeline = await startPipeline({ memory: true });
    try {
      // Act
      const consumers = [...pipeline.runtime.consumers.keys()];
      const rules = Object.fromEntries(pipeline.sagas.rules().map((r) => [r.bus, r.name]));

      // Assess
      expect([...consumers].sort()).toEqual([...STREAM_CONSUMERS].sort());
      expect(rules).toEqual(HANDLER_RULES);
      for (const [bus, rule] of Object.entries(rules))
        expect(isConsumerName(`bus:${pipeline.runtime.buses[bus as 'soccer'].name}/${rule}`)).toBe(
          true,
        );
      expect(isConsumerName('read-model:standings:g2')).toBe(true);
      expect(isConsumerName('read-model:nope:g2')).toBe(false);
      expect(isConsumerName('router')).toBe(false);
    } finally {
      await pipeline.stop();
    }
  });
});
