/**
 * Layering rules of matchstream: dependencies point inwards.
 *   domain ← feeds ← schemas ← stream (transport: of ours, schemas/ only)
 *   ← ingest (the write side) | projections ← sagas (the read side, and what the saga owns)
 *   ← api (the query API) ← pipeline (the composition root) ← cli | infra (the entry points).
 * `npm test` runs these through `npm run deps`; `npm run deps:graph` draws them.
 */
const io = '^(fs|net|http|https|http2|child_process|dgram|cluster|worker_threads|readline)$';

const { LAYERS, EDGES } = require('./tools/layers.cjs');

/** The code that ships: the layers and the two entry points. */
const SHIPPED = [...LAYERS, ...EDGES].join('|');
/** Every folder outside this layer's reach: the layers after it, the edges, tests and tools. */
const above = (layer) => {
  if (!LAYERS.includes(layer)) throw new Error(`no layer ${layer}`);
  return [
    ...LAYERS.slice(LAYERS.indexOf(layer) + 1),
    'infra',
    'cli',
    'bench',
    'chaos',
    'test',
  ].join('|');
};

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular imports make load order fragile and layers meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import must resolve.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-undeclared',
      severity: 'error',
      comment:
        'Every package imported is declared in package.json (no reliance on transitive ones).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'domain-imports-nothing-of-ours',
      severity: 'error',
      comment: 'domain/ is the pure core: it must not reach out to any other layer.',
      from: { path: '^domain/' },
      to: { path: `^(${above('domain')})/` },
    },
    {
      name: 'domain-has-no-aws-or-io',
      severity: 'error',
      comment: 'domain/ is pure: no AWS SDK, no CDK, no file or network I/O.',
      from: { path: '^domain/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'core'],
        path: ['^@aws-sdk/', '^aws-cdk-lib', '^@smithy/', '^constructs', io],
      },
    },
    {
      name: 'feeds-only-on-domain',
      severity: 'error',
      comment: 'feeds/ reads feed files into domain values; it knows nothing of the pipeline.',
      from: { path: '^feeds/' },
      to: { path: `^(${above('feeds')})/` },
    },
    {
      name: 'schemas-only-on-domain',
      severity: 'error',
      comment: 'schemas/ (the Avro schemas, registry, upcasters) stands on domain/ alone.',
      from: { path: '^schemas/' },
      to: { path: `^(${above('schemas')})/` },
    },
    {
      name: 'stream-is-transport-only',
      severity: 'error',
      comment:
        'stream/ is the transport (envelope, event store, change capture, consumers, buses, replay, AWS clients): of ours it imports schemas/ alone, never what a feed row or a read model means.',
      from: { path: '^stream/' },
      to: { path: `^(domain|feeds|${above('stream')})/` },
    },
    {
      name: 'ingest-is-the-write-side',
      severity: 'error',
      comment:
        'ingest/ turns feed rows and team metadata into events (the write side): it stands on domain/, feeds/, schemas/ and stream/, and knows no read model or saga.',
      from: { path: '^ingest/' },
      to: { path: `^(${above('ingest')})/` },
    },
    {
      name: 'read-models-know-no-saga',
      severity: 'error',
      comment:
        'projections/ keeps read models of the events; what the saga owns (its state, its read model, the rankings cache, the notifications) lives in sagas/, which reads projections/, never the other way round.',
      from: { path: '^projections/' },
      to: { path: `^(${above('projections')})/` },
    },
    {
      name: 'sagas-below-the-api',
      severity: 'error',
      comment: 'sagas/ uses stream/ through its ports and never the write side or the edges.',
      from: { path: '^sagas/' },
      to: { path: `^(ingest|${above('sagas')})/` },
    },
    {
      name: 'api-over-the-read-side',
      severity: 'error',
      comment:
        'api/ (the query API, the same app on Node and on Lambda) reads projections/ and sagas/; pipeline/ gives it its stores.',
      from: { path: '^api/' },
      to: { path: `^(ingest|${above('api')})/` },
    },
    {
      name: 'pipeline-is-the-composition-root',
      severity: 'error',
      comment:
        'pipeline/ assembles the parts once, for the CLI, the Lambda handlers, benchmarks, chaos and tests: it imports every layer below it and no entry point.',
      from: { path: '^pipeline/' },
      to: { path: '^(infra|cli|bench|chaos|test)/' },
    },
    {
      name: 'edges-independent',
      severity: 'error',
      comment: 'infra/ and cli/ are separate entry points; neither imports the other.',
      from: { path: '^(infra|cli)/' },
      to: { path: '^(infra|cli)/', pathNot: '^$1/' },
    },
    {
      name: 'bench-and-chaos-build-from-the-root',
      severity: 'error',
      comment:
        'Benchmarks and chaos scenarios build the system from pipeline/ as the entry points do (the CLI only as a process they run).',
      from: { path: '^(bench|chaos)/' },
      to: { path: '^(cli|infra)/' },
    },
    {
      name: 'production-not-on-tests-or-bench',
      severity: 'error',
      comment: 'Shipped code never imports test, benchmark or chaos code.',
      from: { path: `^(${SHIPPED})/` },
      to: { path: '^(test|bench|chaos)/' },
    },
    {
      name: 'console-reads-the-api-types-only',
      severity: 'error',
      comment:
        'web/ (the console, a browser bundle) knows the server only through the API: of ours it imports the types of api/schemas.ts, nothing else.',
      from: { path: '^web/' },
      to: {
        path: `^(${[...LAYERS, ...EDGES, 'test', 'bench', 'chaos', 'tools'].join('|')})/`,
        pathNot: '^api/schemas\\.ts$',
      },
    },
    {
      name: 'console-runs-in-the-browser',
      severity: 'error',
      comment: 'web/src/ runs in a browser: no Node.js module.',
      from: { path: '^web/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-dev-deps-in-production',
      severity: 'error',
      comment:
        'Shipped code (the Lambda bundles included) may only use runtime dependencies; the peers of the benchmarks are dev dependencies of bench/ and test/ alone.',
      from: { path: `^(${SHIPPED})/` },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.json'],
    },
    exclude: { path: '^(dist|node_modules|coverage)/' },
  },
};
