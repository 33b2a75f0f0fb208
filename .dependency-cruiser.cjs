/**
 * Layering rules of matchstream: dependencies point inwards.
 * domain ← feeds ← schemas/stream ← projections/sagas ← infra/cli.
 * `npm test` runs these through `npm run deps`.
 */
const io = '^(fs|net|http|https|http2|child_process|dgram|cluster|worker_threads|readline)$';

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
      to: { path: '^(feeds|schemas|stream|projections|sagas|infra|cli|bench|chaos|test)/' },
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
      to: { path: '^(schemas|stream|projections|sagas|infra|cli|bench|chaos|test)/' },
    },
    {
      name: 'schemas-and-stream-know-no-read-model',
      severity: 'error',
      comment: 'schemas/ and stream/ are infrastructure for every consumer; no read model or saga.',
      from: { path: '^(schemas|stream)/' },
      to: { path: '^(projections|sagas|infra|cli|bench|chaos|test)/' },
    },
    {
      name: 'schemas-below-stream',
      severity: 'error',
      comment: 'schemas/ is used by stream/, never the other way round.',
      from: { path: '^schemas/' },
      to: { path: '^stream/' },
    },
    {
      name: 'projections-and-sagas-not-on-edges',
      severity: 'error',
      comment:
        'projections/ and sagas/ use stream/ through its ports; wiring lives in infra/ and cli/.',
      from: { path: '^(projections|sagas)/' },
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
      name: 'production-not-on-tests-or-bench',
      severity: 'error',
      comment: 'Shipped code never imports test, benchmark or chaos code.',
      from: { path: '^(domain|feeds|schemas|stream|projections|sagas|infra|cli)/' },
      to: { path: '^(test|bench|chaos)/' },
    },
    {
      name: 'no-dev-deps-in-production',
      severity: 'error',
      comment:
        'Shipped code (the Lambda bundles included) may only use runtime dependencies; the peers of the benchmarks are dev dependencies of bench/ and test/ alone.',
      from: { path: '^(domain|feeds|schemas|stream|projections|sagas|infra|cli)/' },
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
      extensions: ['.ts', '.js', '.json'],
    },
    exclude: { path: '^(dist|node_modules|coverage)/' },
  },
};
