/** The local Lambda service's cap on the state machine's task invocations (src/local/task-concurrency.ts). */
import { LocalTaskConcurrency } from '../../src/local/task-concurrency';

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

it('runs at most `limit` at once; the others start in the order they came, as turns free', async () => {
  const cap = new LocalTaskConcurrency(2);
  const gates = Array.from({ length: 5 }, () => deferred<number>());
  const started: number[] = [];
  const results = gates.map((gate, i) => cap.invoke(async () => (started.push(i), gate.promise)));
  await tick();
  expect(started).toEqual([0, 1]);
  expect({ running: cap.running, queued: cap.queued }).toEqual({ running: 2, queued: 3 });
  gates[1]!.resolve(1);
  await tick();
  expect(started).toEqual([0, 1, 2]);
  gates[0]!.resolve(0);
  gates[2]!.resolve(2);
  await tick();
  expect(started).toEqual([0, 1, 2, 3, 4]);
  gates[3]!.resolve(3);
  gates[4]!.resolve(4);
  expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
  expect({ running: cap.running, queued: cap.queued }).toEqual({ running: 0, queued: 0 });
});

it('a failing invocation frees its turn; its failure is its caller\'s', async () => {
  const cap = new LocalTaskConcurrency(1);
  const failing = cap.invoke(() => Promise.reject(new Error('boom')));
  const next = cap.invoke(() => Promise.resolve('next'));
  await expect(failing).rejects.toThrow('boom');
  await expect(next).resolves.toBe('next');
});

it('stop: the waiting invocations are refused and never run, the running one ends, a later one is refused', async () => {
  const cap = new LocalTaskConcurrency(1);
  const gate = deferred<string>();
  const ran: string[] = [];
  const running = cap.invoke(async () => (ran.push('running'), gate.promise));
  const waiting = cap.invoke(() => (ran.push('waiting'), Promise.resolve('never')));
  await tick();
  cap.stop();
  await expect(waiting).rejects.toThrow('the local stack is stopping: the task was not invoked');
  await expect(cap.invoke(() => (ran.push('later'), Promise.resolve('never')))).rejects.toThrow('stopping');
  gate.resolve('done');
  await expect(running).resolves.toBe('done');
  expect(ran).toEqual(['running']);
});

it('refuses a limit that is not a whole number of at least 1', () => {
  for (const limit of [0, -1, 1.5, Number.NaN]) expect(() => new LocalTaskConcurrency(limit)).toThrow('at least 1');
});
