/**
 * The layering rules (.dependency-cruiser.cjs, run on the real tree by `npm run lint:deps` in `npm test`) must
 * fire when broken: test/fixtures/layering breaks each once, and each rule must report exactly its break.
 */
import { execFileSync } from 'node:child_process';
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

it('every layering rule fires on the tree that breaks it', () => {
  const short = (path: string): string => path.replace(/^test\/fixtures\/layering\//, '').replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
  const found = violations().map((v) => `${v.rule.name}: ${short(v.from)} -> ${short(v.to)}`);
  expect(found.sort()).toEqual(
    [
      'domain-no-sdk: src/jobs/uses-sdk.ts -> @aws-sdk/client-emr',
      'sdk-only-in-adapters: src/jobs/uses-sdk.ts -> @aws-sdk/client-emr',
      'sdk-only-in-adapters: src/http/uses-sdk.ts -> @aws-sdk/client-emr',
      'domain-no-outer-layers: src/jobs/uses-adapter.ts -> src/adapters/thing.ts',
      'domain-no-outer-layers: src/util/helper.ts -> src/local/emulator.ts',
      'domain-no-yaml: src/config/uses-yaml.ts -> yaml',
      'lambda-never-reaches-local: src/handlers/entry.ts -> src/local/emulator.ts',
      'no-circular: src/audit/cycle-a.ts -> src/audit/cycle-b.ts',
    ].sort(),
  );
});
