/** `npm run bench`: every benchmark, one after another, each printing its own table. Never run by `npm test`. */
import { main as policy } from './policy';
import { main as completion } from './completion';
import { main as e2e } from './e2e';
import { main as submission } from './submission';
import { main as bundles } from './bundles';
import { main as list } from './list';
import { main as digests } from './digests';
import { main as throttling } from './throttling';
import { main as memory } from './memory';
import { main as soak } from './soak';
import { main as admission } from './admission';
import { main as dashboard } from './dashboard';

// The AWS SDK's NodeVersionSupportWarning (Node < 22) stays out of the tables; set before any SDK client exists.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function run(): Promise<void> {
  const only = process.argv[2];
  const benches: Record<string, () => Promise<void>> = {
    policy,
    // Transitions, history, the end's delay (local stack) and the AWS cost per 1,000 jobs of each design; `transitions`
    // is its simulated part alone (no local stack), once a bench of its own.
    completion: () => completion(),
    transitions: () => completion({ local: false }),
    list, digests, throttling: () => throttling(),
    // e2e prints submission's profile too: `submission` alone is its first part.
    e2e: () => e2e(), submission: () => submission(), bundles: () => bundles([]), memory: () => memory([]), soak: () => soak(), admission: () => admission([]), dashboard: () => dashboard([]) };
  if (only && !(only in benches)) {
    console.error(`no bench named ${only}: ${Object.keys(benches).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  for (const [name, bench] of Object.entries(benches)) {
    if (only && only !== name) continue;
    // `transitions` is part of `completion`, `submission` of `e2e`: a full run does each once.
    if (!only && (name === 'transitions' || name === 'submission')) continue;
    console.log(`\n=== bench: ${name} ===`);
    await bench();
  }
}

run().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
