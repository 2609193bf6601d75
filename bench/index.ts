/** `npm run bench`: every benchmark, one after another, each printing its own table. Never run by `npm test`. */
import { main as policy } from './policy';
import { main as transitions } from './transitions';
import { main as e2e } from './e2e';
import { main as bundles } from './bundles';
import { main as list } from './list';
import { main as digests } from './digests';
import { main as throttling } from './throttling';
import { main as memory } from './memory';
import { main as soak } from './soak';

// The AWS SDK's NodeVersionSupportWarning (Node < 22) stays out of the tables; set before any SDK client exists.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function run(): Promise<void> {
  const only = process.argv[2];
  const benches: Record<string, () => Promise<void>> = { policy, transitions, list, digests, throttling: () => throttling(), e2e: () => e2e(), bundles: () => bundles([]), memory: () => memory([]), soak: () => soak() };
  for (const [name, bench] of Object.entries(benches)) {
    if (only && only !== name) continue;
    console.log(`\n=== bench: ${name} ===`);
    await bench();
  }
}

run().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
