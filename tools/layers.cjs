/**
 * The folders of shipped code, innermost first: the dependency rules (.dependency-cruiser.cjs)
 * and the README's layout diagram (tools/layoutDiagram.mjs) both read them from here.
 */
const LAYERS = [
  'domain',
  'feeds',
  'schemas',
  'stream',
  'ingest',
  'projections',
  'sagas',
  'api',
  'pipeline',
];

/** The two entry points, which nothing of the layers imports. */
const EDGES = ['cli', 'infra'];

module.exports = { LAYERS, EDGES };
