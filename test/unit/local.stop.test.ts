/**
 * A stop is a stop (issue 11 item 3), part by part: the loopback server drains the requests in progress before
 * it closes, within a bound; the local Step Functions runs nothing once stopped.
 */
import { request as httpRequest, Agent } from 'node:http';
import definition from '../../statemachines/submit-job.asl.json';
import { listenLoopback } from '../../src/local/listen';
import { LocalWorkflowRunner } from '../../src/local/sfn/runner';

/** One request on `agent` (keep-alive: the same connection as the one before), its status and body. */
function get(url: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the loopback server, closing', () => {
  it('lets the request in progress finish before it closes, refusing new connections afterwards', async () => {
    let answer: (() => void) | undefined;
    const server = await listenLoopback({
      port: 0,
      refuse: (res) => res.end(),
      handler: (req, res) => {
        if (req.url === '/slow') answer = () => res.end('slow done');
        else res.end('quick');
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(`${server.url}/quick`, other)).toEqual({ status: 200, body: 'quick' }); // an open, idle connection
      const slow = get(`${server.url}/slow`, agent);
      while (!answer) await new Promise((r) => setTimeout(r, 5));
      let closed = false;
      const closing = server.close(10_000).then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(false); // waiting for /slow
      answer();
      expect(await slow).toEqual({ status: 200, body: 'slow done' });
      await closing;
      await expect(get(`${server.url}/quick`, new Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
      other.destroy();
    }
  });

  it('gives up on a request that never ends after drainMs, closing its connection', async () => {
    const server = await listenLoopback({ port: 0, refuse: (res) => res.end(), handler: (req, res) => void (req.url === '/quick' ? res.end('quick') : undefined) });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const hanging = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(`${server.url}/quick`, agent)).status).toBe(200);
      const never = get(`${server.url}/never`, hanging).catch((error: NodeJS.ErrnoException) => error.code);
      await new Promise((r) => setTimeout(r, 50));
      let closed = false;
      const closing = server.close(500).then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(false); // still draining
      await closing;
      expect(await never).toBe('ECONNRESET');
    } finally {
      agent.destroy();
      hanging.destroy();
    }
  });
});

describe('the local Step Functions, stopped', () => {
  it('aborts what runs, starts nothing more (ABORTED at once) and calls no Task any more', async () => {
    const calls: string[] = [];
    const task = (name: string) => (input: unknown) => {
      calls.push(name);
      return Promise.resolve(input);
    };
    const runner = new LocalWorkflowRunner({
      definition,
      routes: { SubmitStepFunctionArn: task('submit'), WatchStepFunctionArn: task('watch'), PollStepFunctionArn: task('poll'), FailJobFunctionArn: task('fail') },
      waitOverrideMs: 60_000,
    });
    await runner.stop();
    const late = runner.run('job-after-stop', { jobId: 'job-after-stop', polling: { initialSeconds: 1, factor: 1, maxSeconds: 1 } });
    expect(late.status).toBe('ABORTED');
    expect(await late.done).toMatchObject({ status: 'ABORTED', stoppedAt: expect.any(Date) as Date });
    await runner.start({ jobId: 'job-after-stop', polling: { initialSeconds: 1, factor: 1, maxSeconds: 1 } });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([]);
  });
});
