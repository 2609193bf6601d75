/**
 * Where the local stack's CPU goes while `work` runs: a sampling profile of this process (node:inspector), each
 * sample's own time given to a component by the file it ran in. Prints the shares, largest first.
 */
import { Session } from 'node:inspector/promises';

/** Components by the file a sample ran in: the first match wins. */
const COMPONENTS: [string, RegExp][] = [
  ['DynamoDB (dynalite, LevelDB)', /node_modules\/(dynalite|abstract-level|classic-level|level|level-[a-z-]+|memory-level|lazy|big\.js|once)\//],
  ['AWS SDK clients (serialisation, middleware, signing)', /node_modules\/(@smithy|@aws-sdk|@aws-crypto|bowser|fast-xml-parser|strnum|tslib)\//],
  ['Step Functions interpreter (aws-local-stepfunctions)', /node_modules\/(aws-local-stepfunctions|jsonpath|asl-validator|lodash)/],
  ['the gateway (src/, zod, middy, Powertools)', /\/src\/(?!local\/)|node_modules\/(zod|@middy|@aws-lambda-powertools)\//],
  ['the local emulators (src/local/)', /\/src\/local\//],
  ['HTTP and streams (node:http, undici, net)', /^node:(_http|http|https|net|internal\/(streams|deps\/undici|http|child_process|stream_base))|undici/],
];

export async function cpuShares<T>(work: () => Promise<T>): Promise<{ result: T; shares: { component: string; ms: number; share: number }[]; totalMs: number }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  let result: T;
  let profile: Awaited<ReturnType<typeof stop>>;
  const stop = async () => (await session.post('Profiler.stop')).profile;
  try {
    result = await work();
  } finally {
    profile = await stop();
    session.disconnect();
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  // A native or built-in function (JSON.parse, a hash, a socket write) counts for the nearest caller in a file.
  const componentOf = (id: number): string | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { url } = byId.get(at)!.callFrame;
      if (!url) continue;
      const found = COMPONENTS.find(([, pattern]) => pattern.test(url));
      if (found) return found[0];
    }
    return undefined;
  };
  const totals = new Map<string, number>();
  let totalUs = 0;
  profile.samples?.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas?.[i] ?? 0;
    if (!node) return;
    const { functionName } = node.callFrame;
    const component = functionName === '(idle)' ? '(idle)' : functionName === '(garbage collector)' ? 'garbage collection' : (componentOf(id) ?? 'other (Node internals, native, program)');
    totals.set(component, (totals.get(component) ?? 0) + us);
    totalUs += us;
  });
  const shares = [...totals.entries()].map(([component, us]) => ({ component, ms: us / 1000, share: us / totalUs })).sort((a, b) => b.ms - a.ms);
  return { result: result!, shares, totalMs: totalUs / 1000 };
}

export function printShares(title: string, shares: { component: string; ms: number; share: number }[], perJob?: number): void {
  console.log(title);
  for (const { component, ms, share } of shares) console.log(`  ${component.padEnd(56)} ${(share * 100).toFixed(0).padStart(3)}%${perJob ? `  ${(ms / perJob).toFixed(2).padStart(6)} ms/job` : ''}`);
}
