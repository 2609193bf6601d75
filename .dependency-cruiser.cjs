/**
 * The layering, enforced (run by `npm run lint:deps`, part of `npm test`). Each rule names what it protects.
 *
 *   domain   src/{jobs,audit,authz,triggers,config,util}, src/errors.ts, src/identifiers.ts: pure logic against
 *            ports; no SDK, no adapters, no local stack, no YAML, no HTTP, no CLI.
 *   adapters src/adapters: the only Lambda code that imports @aws-sdk/*; they implement the domain's ports.
 *   handlers src/handlers (+ src/container.ts, the composition root, and src/http): what Lambda runs; never
 *            reaches the local stack, a YAML parser or the AGPL test oracle.
 *   tools    src/local (the emulators), src/cli, src/client, scripts/: may use everything above.
 */
// The tree is src/; test/fixtures/layering is a copy of its shape that breaks each rule once (test/unit/layering.test.ts).
const SRC = '^(?:test/fixtures/layering/)?src/';
const DOMAIN = `${SRC}(jobs|audit|authz|triggers|config|util)/|${SRC}(errors|identifiers)\\.ts$`;
const OUTER = `${SRC}(adapters|handlers|http|local|cli|client)/|${SRC}container\\.ts$`;
const LAMBDA_ENTRIES = `${SRC}handlers/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the module or move the shared part down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-no-sdk',
      severity: 'error',
      comment: 'The domain never sees an SDK command or error: declare a port (src/jobs/ports.ts) and implement it in src/adapters/.',
      from: { path: DOMAIN },
      to: { path: '^node_modules/(@aws-sdk|@smithy)/' },
    },
    {
      name: 'domain-no-outer-layers',
      severity: 'error',
      comment: 'The domain depends on nothing outside it: adapters, handlers, HTTP, the local stack, the CLI and the client are above it.',
      from: { path: DOMAIN },
      to: { path: OUTER },
    },
    {
      name: 'domain-no-yaml',
      severity: 'error',
      comment: 'YAML is read by the tools (src/config-file/); the domain and the Lambda functions get validated data.',
      from: { path: DOMAIN },
      to: { path: '^node_modules/yaml/' },
    },
    {
      name: 'sdk-only-in-adapters',
      severity: 'error',
      comment: 'Of the code Lambda runs, only src/adapters/ talks to the AWS SDK.',
      from: { path: SRC, pathNot: `${SRC}(adapters|local|cli|client)/` },
      to: { path: '^node_modules/@aws-sdk/' },
    },
    {
      name: 'adapters-stay-at-the-boundary',
      severity: 'error',
      comment: 'Adapters implement ports; they do not call handlers, HTTP, the CLI or the local stack.',
      from: { path: `${SRC}adapters/` },
      to: { path: `${SRC}(handlers|http|local|cli|client)/|${SRC}container\\.ts$` },
    },
    {
      name: 'lambda-never-reaches-local',
      severity: 'error',
      comment: 'A Lambda bundle must not contain the emulators (or their demo keys).',
      from: { path: LAMBDA_ENTRIES },
      to: { path: `${SRC}local/`, reachable: true },
    },
    {
      name: 'lambda-never-reaches-yaml',
      severity: 'error',
      comment: 'Lambda functions load the configuration as validated JSON: no YAML parser in the bundles.',
      from: { path: LAMBDA_ENTRIES },
      to: { path: '^node_modules/yaml/', reachable: true },
    },
    {
      name: 'lambda-never-reaches-tools',
      severity: 'error',
      comment: 'The CLI, the typed client and the packaging scripts are not Lambda code.',
      from: { path: LAMBDA_ENTRIES },
      to: { path: `${SRC}(cli|client)/|^scripts/`, reachable: true },
    },
    {
      name: 'no-agpl-oracle-in-src',
      severity: 'error',
      comment: '@cloud-copilot/* is AGPL: a test oracle only, never imported from src/.',
      from: { path: SRC },
      to: { path: '^node_modules/@cloud-copilot/' },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      comment: 'Shipped code does not depend on tests, benches or scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    // Follow nothing inside node_modules, but keep the edges into it: the rules are about which packages we import.
    doNotFollow: { path: '^node_modules/' },
    // A work tree whose node_modules is a symlink (git worktrees sharing one install) would otherwise resolve
    // packages to their real path (../main/node_modules/...): no rule would see a package, and node_modules'
    // own cycles would be reported.
    preserveSymlinks: true,
    exclude: { path: '^(dist|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // Type-only imports count for the layering rules (a type from the SDK in the domain is still the SDK's shape).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
