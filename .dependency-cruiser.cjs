/**
 * The layering, enforced (run by `npm run lint:deps`, part of `npm test`). Each rule names what it protects.
 *
 *   domain      src/{jobs,sessions,notifications,audit,authz,doctor,triggers,config,util}, src/errors.ts, src/identifiers.ts: pure logic
 *               against ports; no SDK, no adapters, no local stack, no YAML, no HTTP, no CLI.
 *   adapters    src/adapters: the only Lambda code that imports @aws-sdk/* or @smithy/*; they implement the
 *               domain's ports and turn SDK errors into domain errors.
 *   composition src/container.ts and src/composition/ (one module per part, so that each function's bundle holds
 *               only its parts): the only Lambda code that imports adapters.
 *   lambda      src/handlers (the entry points) and src/http: never reach the local stack, a YAML parser,
 *               the tools or the AGPL test oracle; they see domain errors only.
 *   tools       src/local (the emulators), src/config-file (the YAML reader), src/cli, src/client, src/dashboard (the
 *               dashboard's loopback server and its web app; what the browser bundle may hold is checked by
 *               scripts/build-dashboard.ts), scripts/.
 * Every file of src/ belongs to one of these; a new folder needs a place here first.
 */
// The tree is src/; test/fixtures/layering has the same shape and breaks each rule once (test/unit/layering.test.ts).
const SRC = '^(?:test/fixtures/layering/)?src/';
const DOMAIN = `${SRC}(jobs|sessions|notifications|audit|authz|doctor|triggers|config|util)/|${SRC}(errors|identifiers)\\.ts$`;
const TOOLS = `${SRC}(local|config-file|cli|client|dashboard)/`;
const OUTER = `${SRC}(adapters|composition|handlers|http|local|config-file|cli|client|dashboard)/|${SRC}container\\.ts$`;
const LAMBDA_ENTRIES = `${SRC}handlers/`;
const KNOWN = `${SRC}((jobs|sessions|notifications|audit|authz|doctor|triggers|config|util|adapters|composition|handlers|http|local|config-file|cli|client|dashboard|types)/|(errors|identifiers|container)\\.ts$)`;
// Packages, wherever node_modules is (a work tree may link it from elsewhere).
const pkg = (names) => `(^|/)node_modules/(${names})/`;

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
      name: 'every-file-has-a-layer',
      severity: 'error',
      comment: 'A file outside the known folders has no layering rule: put it in a layer, or add its folder to .dependency-cruiser.cjs.',
      from: { path: SRC, pathNot: KNOWN },
      to: {},
    },
    {
      name: 'domain-no-sdk',
      severity: 'error',
      comment: 'The domain never sees an SDK command or error: declare a port (src/jobs/ports.ts) and implement it in src/adapters/.',
      from: { path: DOMAIN },
      to: { path: pkg('@aws-sdk|@smithy') },
    },
    {
      name: 'domain-no-outer-layers',
      severity: 'error',
      comment: 'The domain depends on nothing outside it: adapters, handlers, HTTP, the tools and the composition root are above it.',
      from: { path: DOMAIN },
      to: { path: OUTER },
    },
    {
      name: 'domain-never-reaches-yaml',
      severity: 'error',
      comment: 'YAML is read by the tools (src/config-file/); the domain and the Lambda functions get validated data.',
      from: { path: DOMAIN },
      to: { path: pkg('yaml'), reachable: true },
    },
    {
      name: 'sdk-only-in-adapters',
      severity: 'error',
      comment: 'Of the code Lambda runs, only src/adapters/ talks to the AWS SDK.',
      from: { path: SRC, pathNot: `${SRC}adapters/|${TOOLS}` },
      to: { path: pkg('@aws-sdk|@smithy') },
    },
    {
      name: 'adapters-only-through-the-composition-root',
      severity: 'error',
      comment: 'Handlers and HTTP get adapters from src/container.ts or src/composition/ and see domain errors only (not SDK error names from adapters/aws-errors).',
      from: { path: SRC, pathNot: `${SRC}(adapters|composition)/|${SRC}container\\.ts$|${TOOLS}` },
      to: { path: `${SRC}adapters/` },
    },
    {
      name: 'adapters-stay-at-the-boundary',
      severity: 'error',
      comment: 'Adapters implement ports; they do not call handlers, HTTP, the tools or the composition root.',
      from: { path: `${SRC}adapters/` },
      to: { path: `${SRC}(composition|handlers|http)/|${TOOLS}|${SRC}container\\.ts$` },
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
      to: { path: pkg('yaml'), reachable: true },
    },
    {
      name: 'lambda-never-reaches-tools',
      severity: 'error',
      comment: 'The CLI, the typed client, the YAML reader and the packaging scripts are not Lambda code.',
      from: { path: LAMBDA_ENTRIES },
      to: { path: `${SRC}(cli|client|config-file|dashboard)/|^scripts/`, reachable: true },
    },
    {
      name: 'no-agpl-oracle-in-src',
      severity: 'error',
      comment: '@cloud-copilot/* is AGPL: a test oracle only, never imported from src/.',
      from: { path: SRC },
      to: { path: pkg('@cloud-copilot') },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      comment: 'Shipped code does not depend on tests, benches or scripts.',
      from: { path: SRC },
      to: { path: '^(test|bench|scripts)/', pathNot: '^test/fixtures/layering/src/' },
    },
  ],
  options: {
    // Follow nothing inside node_modules, but keep the edges into it: the rules are about which packages we import.
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '^(dist|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count too: a type from the SDK in the domain is still the SDK's shape.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
