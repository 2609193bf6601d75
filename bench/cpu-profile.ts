/**
 * Where the local stack's CPU goes while `work` runs: a sampling profile of each thread of this process (node:inspector;
 * the functions' worker thread through the main thread's NodeWorker domain), each sample's own time given to a
 * component by the file it ran in. Prints the shares, largest first.
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

/** A V8 CPU profile (the inspector's Profiler.Profile), as much of it as the shares need. */
interface Profile {
  nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
}
export interface Share {
  component: string;
  ms: number;
  share: number;
}

/** Each sample's own time given to the component of the file it ran in (a native function's to its nearest caller's). */
function sharesOf(profile: Profile): { shares: Share[]; totalMs: number } {
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
  return { shares, totalMs: totalUs / 1000 };
}

/**
 * The worker threads of this process (the local stack's functions run in one), profiled through the main thread's
 * inspector (its NodeWorker domain relays each worker's own Profiler), so that a profile shows every thread's CPU.
 */
async function profileWorkers(session: Session): Promise<{ stop: () => Promise<{ title: string; profile: Profile }[]> }> {
  const workers: { sessionId: string; title: string }[] = [];
  const replies = new Map<number, (reply: { result?: { profile?: Profile } }) => void>();
  let lastId = 0;
  session.on('NodeWorker.attachedToWorker', (message: { params: { sessionId: string; workerInfo: { title: string } } }) => {
    workers.push({ sessionId: message.params.sessionId, title: message.params.workerInfo.title });
  });
  session.on('NodeWorker.receivedMessageFromWorker', (message: { params: { message: string } }) => {
    const reply = JSON.parse(message.params.message) as { id?: number; result?: { profile?: Profile } };
    if (reply.id === undefined) return;
    replies.get(reply.id)?.(reply);
    replies.delete(reply.id);
  });
  const send = (sessionId: string, method: string, params: Record<string, unknown> = {}) =>
    new Promise<{ result?: { profile?: Profile } }>((answered) => {
      const id = ++lastId;
      replies.set(id, answered);
      void session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  await session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  // The workers already running attach at once (their events come before the next turn).
  await new Promise((r) => setTimeout(r, 50));
  for (const { sessionId } of workers) {
    await send(sessionId, 'Profiler.enable');
    await send(sessionId, 'Profiler.setSamplingInterval', { interval: 500 });
    await send(sessionId, 'Profiler.start');
  }
  return {
    stop: async () => {
      const profiles = [];
      for (const { sessionId, title } of workers) {
        const reply = await send(sessionId, 'Profiler.stop');
        if (reply.result?.profile) profiles.push({ title, profile: reply.result.profile });
      }
      await session.post('NodeWorker.disable');
      return profiles;
    },
  };
}

/** Where this process's CPU went while `work` ran: its main thread's shares, and each worker thread's. */
export async function cpuShares<T>(work: () => Promise<T>): Promise<{ result: T; shares: Share[]; totalMs: number; workers: { title: string; shares: Share[]; totalMs: number }[] }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  const workerProfiles = await profileWorkers(session);
  await session.post('Profiler.start');
  let result: T;
  let profile: Profile;
  let workers: { title: string; profile: Profile }[];
  try {
    result = await work();
  } finally {
    profile = (await session.post('Profiler.stop')).profile;
    workers = await workerProfiles.stop();
    session.disconnect();
  }
  return { result: result!, ...sharesOf(profile), workers: workers.map(({ title, profile: p }) => ({ title, ...sharesOf(p) })) };
}

export function printShares(title: string, shares: Share[], perJob?: number): void {
  console.log(title);
  for (const { component, ms, share } of shares) console.log(`  ${component.padEnd(56)} ${(share * 100).toFixed(0).padStart(3)}%${perJob ? `  ${(ms / perJob).toFixed(2).padStart(6)} ms/job` : ''}`);
}
