import { describe, expect, it } from 'vitest';
import { READ_MODEL_NAMES } from '../../../pipeline/readModelNames.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';

/**
 * The CLI registers its commands from modules that load nothing heavy; where such a module
 * repeats what a heavy one declares, the two must say the same.
 */
describe('the light modules of the command line', () => {
  it('name the read models of READ_MODELS, in its order', () => {
    expect(READ_MODEL_NAMES).toEqual(READ_MODELS.map((p) => p.name));
  });
});
