/**
 * The layering rules (.dependency-cruiser.cjs, run on the real tree by `npm run lint:deps` in `npm test`) must
 * fire when broken: test/fixtures/layering breaks each once, and each rule must report exactly its break.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

jest.setTimeout(60_000);

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

const root = resolve(__dirname, '../..');

function violations(): Violation[] {
  let out: string;
  try {
    // From the root, as `npm run lint:deps` runs: packages resolve to node_modules/... exactly as for src/.
    out = execFileSync(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', 'test/fixtures/layering/src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // depcruise exits non-zero when it finds violations; its JSON is still on stdout.
    const stdout = (error as { stdout?: string | Buffer }).stdout;
    out = stdout === undefined ? '' : stdout.toString();
  }
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

it('every layering rule fires on the tree that breaks it, and only where it is broken', () => {
  const short = (path: string): string => path.replace(/^test\/fixtures\/layering\//, '').replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
  const found = violations().map((v) => `${v.rule.name}: ${short(v.from)} -> ${short(v.to)}`);
  expect(found.sort()).toEqual(
    [
      'adapters-only-through-the-composition-root: src/http/uses-adapter.ts -> src/adapters/thing.ts',
      'adapters-only-through-the-composition-root: src/jobs/uses-adapter.ts -> src/adapters/thing.ts',
      'adapters-stay-at-the-boundary: src/adapters/calls-handler.ts -> src/handlers/plain.ts',
      'domain-never-reaches-yaml: src/config/uses-yaml.ts -> yaml',
      'domain-no-outer-layers: src/jobs/uses-adapter.ts -> src/adapters/thing.ts',
      'domain-no-outer-layers: src/util/helper.ts -> src/local/emulator.ts',
      'domain-no-sdk: src/jobs/uses-sdk.ts -> @aws-sdk/client-emr',
      'every-file-has-a-layer: src/metrics/counter.ts -> src/metrics/unit.ts',
      'lambda-never-reaches-local: src/handlers/entry.ts -> src/local/emulator.ts',
      'lambda-never-reaches-tools: src/handlers/reads-config.ts -> src/config-file/read.ts',
      'lambda-never-reaches-tools: src/handlers/uses-cli.ts -> src/cli/tool.ts',
      'lambda-never-reaches-yaml: src/handlers/reads-config.ts -> yaml',
      'no-agpl-oracle-in-src: src/authz/oracle.ts -> @cloud-copilot/iam-simulate',
      'no-circular: src/audit/cycle-a.ts -> src/audit/cycle-b.ts',
      'sdk-only-in-adapters: src/http/uses-sdk.ts -> @aws-sdk/client-emr',
      'sdk-only-in-adapters: src/jobs/uses-sdk.ts -> @aws-sdk/client-emr',
      'src-never-imports-tests: src/util/uses-test.ts -> test/support/thrown.ts',
    ].sort(),
  );
  // And no rule of the config goes untested.
  const config = readFileSync(resolve(root, '.dependency-cruiser.cjs'), 'utf8');
  const rules = [...config.matchAll(/^\s+name: '([a-z-]+)',$/gm)].map((m) => m[1]);
  expect(new Set(found.map((f) => f.split(':')[0]))).toEqual(new Set(rules));
});
