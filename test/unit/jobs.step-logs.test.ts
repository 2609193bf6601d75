/**
 * A job's step logs and application UI (src/jobs/step-logs.ts, src/jobs/app-ui.ts, JobService.logs/appUi): the
 * window of lines read from a log's decompressed bytes (tail, offset, the bounds), where EMR keeps the log, and
 * the service's decisions (JobLogsService): read as the job is, 404 before a step or a log exists, the UI under the job's role.
 */
import { parse, stringify } from 'yaml';
import { ConflictError, EmrRejectedError, ForbiddenError, NotFoundError, ValidationError } from '../../src/errors';
import type { AppUiLinks } from '../../src/jobs/app-ui';
import { JobLogsService } from '../../src/jobs/job-logs';
import { OffsetBeyondEndError, readStepLogWindow, STEP_LOG_LIMITS, stepLogLocation, type StepLogStore } from '../../src/jobs/step-logs';
import { ALICE, AUDITOR, CAROL, CLUSTER, GATEWAY_CONFIG_YAML, NOREADS, PLAIN_CLUSTER, submitBody } from '../support/config';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

/** The bytes as a stream of chunks of `size` (the decompressed stream's chunks fall anywhere), counting what was read. */
function chunked(data: string | Buffer, size = 7): AsyncIterable<Uint8Array> & { read: number; stopped: boolean } {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const state = { read: 0, stopped: false };
  return Object.assign(state, {
    async *[Symbol.asyncIterator]() {
      try {
        for (let at = 0; at < bytes.length; at += size) {
          const chunk = bytes.subarray(at, at + size);
          state.read += chunk.length;
          yield await Promise.resolve(chunk);
        }
      } finally {
        if (state.read < bytes.length) state.stopped = true;
      }
    },
  });
}

const numbered = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `line ${i + from}\n`).join('');

describe('the window of a step log', () => {
  it('tail: the last N complete lines, where they start, and the unfinished last line apart', async () => {
    const log = `${numbered(5)}half a li`;
    const w = await readStepLogWindow(chunked(log), { tail: 2 });
    expect(w.lines).toEqual(['line 4', 'line 5']);
    expect(w.offset).toBe(numbered(3).length);
    expect(w.nextOffset).toBe(numbered(5).length);
    expect(w).toMatchObject({ partial: 'half a li', more: false, size: Buffer.byteLength(log), cutLines: 0 });
    // Without tail: the last 1000.
    const all = await readStepLogWindow(chunked(numbered(1500), 64), {});
    expect(all.lines).toHaveLength(STEP_LOG_LIMITS.defaultTail);
    expect(all.lines[0]).toBe('line 501');
    expect(all).not.toHaveProperty('partial');
  });

  it('offset: follows a growing log without repeating or losing a line', async () => {
    let log = 'first\nsec';
    const one = await readStepLogWindow(chunked(log), { offset: 0 });
    expect(one).toMatchObject({ lines: ['first'], offset: 0, nextOffset: 6, partial: 'sec', more: false });
    log += 'ond\nthird\n';
    const two = await readStepLogWindow(chunked(log), { offset: one.nextOffset });
    expect(two).toMatchObject({ lines: ['second', 'third'], offset: 6, nextOffset: log.length, more: false, size: log.length });
    expect(two).not.toHaveProperty('partial');
    const three = await readStepLogWindow(chunked(log), { offset: two.nextOffset });
    expect(three).toMatchObject({ lines: [], offset: log.length, nextOffset: log.length, more: false });
  });

  it('offsets count bytes, not characters; lines are UTF-8 (a bad byte is U+FFFD); CRLF ends a line as LF does', async () => {
    const log = Buffer.concat([Buffer.from('é€😀\r\n', 'utf8'), Buffer.from([0x66, 0xff, 0x0a]), Buffer.from('z\n')]);
    const w = await readStepLogWindow(chunked(log, 3), { offset: 0 });
    expect(w.lines).toEqual(['é€😀', 'f\uFFFD', 'z']);
    expect(w.nextOffset).toBe(log.length);
    const after = await readStepLogWindow(chunked(log, 1), { offset: Buffer.byteLength('é€😀\r\n') });
    expect(after.lines).toEqual(['f\uFFFD', 'z']);
  });

  it('an answer holds at most maxLines lines and maxBytes of them; `more` says to ask again, and the read stops there', async () => {
    const big = numbered(STEP_LOG_LIMITS.maxLines + 500);
    const stream = chunked(big, 4096);
    const w = await readStepLogWindow(stream, { offset: 0 });
    expect(w.lines).toHaveLength(STEP_LOG_LIMITS.maxLines);
    expect(w).toMatchObject({ more: true, nextOffset: numbered(STEP_LOG_LIMITS.maxLines).length });
    expect(w).not.toHaveProperty('size');
    expect(stream.stopped).toBe(true);
    const rest = await readStepLogWindow(chunked(big, 4096), { offset: w.nextOffset });
    expect(rest.lines).toEqual(numbered(500, STEP_LOG_LIMITS.maxLines + 1).trimEnd().split('\n'));
    expect(rest.more).toBe(false);
    // Long lines: the byte bound comes first, in tail mode too (the newest lines that fit).
    const wide = `${'x'.repeat(60_000)}\n`.repeat(40);
    const byBytes = await readStepLogWindow(chunked(wide, 10_000), { offset: 0 });
    expect(byBytes.lines.length).toBe(Math.floor(STEP_LOG_LIMITS.maxBytes / 60_002));
    expect(byBytes.more).toBe(true);
    const tail = await readStepLogWindow(chunked(wide, 10_000), { tail: 40 });
    expect(tail.lines.length).toBe(Math.floor(STEP_LOG_LIMITS.maxBytes / 60_002));
    expect(tail.nextOffset).toBe(wide.length);
    expect(tail.offset).toBe(wide.length - tail.lines.length * 60_001);
  });

  it('cuts a line longer than maxLineBytes, and counts it; the offsets still count all of it', async () => {
    const long = `${'a'.repeat(STEP_LOG_LIMITS.maxLineBytes + 10)}\nshort\n`;
    for (const query of [{ offset: 0 }, { tail: 5 }]) {
      const w = await readStepLogWindow(chunked(long, 1000), query);
      expect(w.lines.map((l) => l.length)).toEqual([STEP_LOG_LIMITS.maxLineBytes, 5]);
      expect(w).toMatchObject({ cutLines: 1, nextOffset: long.length });
    }
  });

  it('a tail keeps only the end of a long log in memory, and still knows where its lines start', async () => {
    const lines = 300_000;
    const log = numbered(lines);
    const w = await readStepLogWindow(chunked(log, 65_536), { tail: 3 });
    expect(w.lines).toEqual([`line ${lines - 2}`, `line ${lines - 1}`, `line ${lines}`]);
    expect(w.offset).toBe(log.length - `line ${lines - 2}\nline ${lines - 1}\nline ${lines}\n`.length);
    expect(w.size).toBe(log.length);
  });

  it('an offset beyond the end is an error of its own (no answer has given it)', async () => {
    await expect(readStepLogWindow(chunked('abc\n'), { offset: 5 })).rejects.toBeInstanceOf(OffsetBeyondEndError);
    await expect(readStepLogWindow(chunked('abc\n'), { offset: 4 })).resolves.toMatchObject({ lines: [], nextOffset: 4 });
  });

  it('an offset counts against the bytes one answer may read: skipping to it decompresses too, so a far one is refused unread', async () => {
    let consumed = 0;
    const big = Buffer.alloc(64 * 1024 * 1024, 0x61);
    // A log without end: an iterable whose every chunk is counted as it is read.
    const endless = (): AsyncIterable<Uint8Array> => ({
      [Symbol.asyncIterator]: () => ({ next: () => ((consumed += big.length), Promise.resolve({ done: false, value: big })) }),
    });
    await expect(readStepLogWindow(endless(), { offset: Number.MAX_SAFE_INTEGER })).rejects.toBeInstanceOf(OffsetBeyondEndError);
    expect(consumed).toBe(0);
    consumed = 0;
    const near = await readStepLogWindow(endless(), { offset: STEP_LOG_LIMITS.maxScanBytes - 10 });
    expect(near).toMatchObject({ lines: [], more: true });
    expect(consumed).toBeLessThanOrEqual(STEP_LOG_LIMITS.maxScanBytes + big.length);
  });

  it('is where EMR keeps it: <LogUri><cluster id>/steps/<step id>/<stream>.gz', () => {
    expect(stepLogLocation('s3n://aws-logs-1-us-east-1/elasticmapreduce', 'j-1', 's-2', 'controller')).toEqual({
      bucket: 'aws-logs-1-us-east-1',
      key: 'elasticmapreduce/j-1/steps/s-2/controller.gz',
      uri: 's3://aws-logs-1-us-east-1/elasticmapreduce/j-1/steps/s-2/controller.gz',
    });
    expect(stepLogLocation('s3://logs', 'j-1', 's-2', 'stdout').key).toBe('j-1/steps/s-2/stdout.gz');
  });
});

const LOG_URI = 's3://aws-logs-123456789012-us-east-1/elasticmapreduce/';
/** The test configuration, the analytics cluster with a LogUri (the plain one without). */
const CONFIG = ((): string => {
  const doc = parse(GATEWAY_CONFIG_YAML) as { clusters: Record<string, unknown>[] };
  doc.clusters[0]!.logUri = LOG_URI;
  return stringify(doc);
})();

class MemoryLogs implements StepLogStore {
  readonly objects = new Map<string, string>();
  readonly opened: string[] = [];
  open(location: { bucket: string; key: string }) {
    this.opened.push(`${location.bucket}/${location.key}`);
    const body = this.objects.get(`${location.bucket}/${location.key}`);
    return Promise.resolve(body === undefined ? undefined : { lastModified: new Date('2026-11-28T12:00:05Z'), chunks: chunked(body) });
  }
}

class RecordingAppUi implements AppUiLinks {
  readonly calls: { kind: string; input: Record<string, string> }[] = [];
  refuse?: string;
  onCluster(input: { clusterId: string; executionRoleArn: string }) {
    this.calls.push({ kind: 'on-cluster', input });
    if (this.refuse) return Promise.reject(new EmrRejectedError(this.refuse, 'InvalidRequestException'));
    return Promise.resolve({ ready: true, url: `https://on-cluster.example/${input.clusterId}` });
  }
  persistent(input: { clusterId: string; clusterArn: string; executionRoleArn: string }) {
    this.calls.push({ kind: 'persistent', input });
    return Promise.resolve({ ready: false, persistentAppUiId: 'p-1' });
  }
}

describe('JobLogsService: a job\'s logs and application UI, read as the job is', () => {
  let g: MemoryGateway;
  let logs: MemoryLogs;
  let ui: RecordingAppUi;
  let reads: JobLogsService;
  beforeEach(() => {
    logs = new MemoryLogs();
    ui = new RecordingAppUi();
    g = memoryGateway({ configYaml: CONFIG });
    reads = new JobLogsService({ config: g.config, jobs: g.service, stepLogs: logs, appUi: ui });
  });
  const submitted = async (body = submitBody()): Promise<{ jobId: string; stepId: string }> => {
    const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body });
    await g.tasks.submit(g.input(job.jobId));
    return { jobId: job.jobId, stepId: (await g.jobs.get(job.jobId))!.stepId! };
  };
  const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e);

  it('reads the step log at the LogUri, for whoever may read the job, and no one else', async () => {
    const { jobId, stepId } = await submitted();
    logs.objects.set(`aws-logs-123456789012-us-east-1/elasticmapreduce/${CLUSTER}/steps/${stepId}/stderr.gz`, 'warn 1\nwarn 2\n');
    const read = await reads.logs({ callerArn: ALICE }, jobId, { stream: 'stderr', tail: 1 });
    expect(read).toMatchObject({ stepId, location: { uri: `${LOG_URI}${CLUSTER}/steps/${stepId}/stderr.gz` }, lastModified: new Date('2026-11-28T12:00:05Z'), window: { lines: ['warn 2'], offset: 7 } });
    await expect(reads.logs({ callerArn: AUDITOR }, jobId, { stream: 'stderr' })).resolves.toMatchObject({ window: { lines: ['warn 1', 'warn 2'] } });
    // As GET /jobs/{id} decides: carol may not read it; NoReads (a Deny on DescribeStep) not even... their own.
    for (const caller of [CAROL, NOREADS]) expect(await rejection(reads.logs({ callerArn: caller }, jobId, { stream: 'stderr' }))).toBeInstanceOf(ForbiddenError);
    expect(logs.opened).toHaveLength(2);
  });

  it('404s with a reason: no step yet, no log yet, no LogUri configured; 400 for tail with offset, or an offset past the end', async () => {
    const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    const noStep = await rejection(reads.logs({ callerArn: ALICE }, job.jobId, { stream: 'stdout' }));
    expect(noStep).toBeInstanceOf(NotFoundError);
    expect((noStep as Error).message).toBe(`job ${job.jobId} has no EMR step yet (status ACCEPTED)`);
    expect((noStep as NotFoundError).code).toBe('NoStep');
    const { jobId, stepId } = await submitted();
    const noLog = await rejection(reads.logs({ callerArn: ALICE }, jobId, { stream: 'syslog' }));
    expect(noLog).toBeInstanceOf(NotFoundError);
    expect((noLog as Error).message).toContain(`no syslog log of step ${stepId} at ${LOG_URI}${CLUSTER}/steps/${stepId}/syslog.gz yet: EMR uploads`);
    expect((noLog as NotFoundError).code).toBe('LogNotYetWritten');
    const plain = await submitted(submitBody({ clusterId: PLAIN_CLUSTER }));
    const noUri = await rejection(reads.logs({ callerArn: ALICE }, plain.jobId, { stream: 'stdout' }));
    expect(noUri).toBeInstanceOf(NotFoundError);
    expect((noUri as Error).message).toContain(`cluster ${PLAIN_CLUSTER} has no logUri in the gateway's configuration`);
    expect((noUri as NotFoundError).code).toBe('LogsNotConfigured');
    expect(await rejection(reads.logs({ callerArn: ALICE }, jobId, { stream: 'stdout', tail: 1, offset: 0 }))).toBeInstanceOf(ValidationError);
    logs.objects.set(`aws-logs-123456789012-us-east-1/elasticmapreduce/${CLUSTER}/steps/${stepId}/stdout.gz`, 'ab\n');
    const past = await rejection(reads.logs({ callerArn: ALICE }, jobId, { stream: 'stdout', offset: 9 }));
    expect(past).toBeInstanceOf(ValidationError);
    expect((past as ValidationError).issues).toEqual([{ field: 'offset', message: 'offset 9 is beyond the end of the log (3 bytes)' }]);
  });

  it("the UI shows every step of the job's role on the cluster: only for a caller a policy lets read them all, not on the own-job rule", async () => {
    const { jobId } = await submitted();
    // alice may read her own job (the own-job rule), but no policy lets her read the role's steps: the link would show
    // the other principals' jobs as that role, so none is given.
    const own = await rejection(reads.appUi({ callerArn: ALICE }, jobId));
    expect(own).toBeInstanceOf(ForbiddenError);
    expect((own as Error).message).toMatch(/a Spark UI link shows every step .* ran on .*: no statement allows elasticmapreduce:DescribeStep/);
    expect(ui.calls).toEqual([]);
    await expect(reads.appUi({ callerArn: AUDITOR }, jobId)).resolves.toMatchObject({ kind: 'on-cluster', ready: true, url: `https://on-cluster.example/${CLUSTER}` });
    await g.run(jobId);
    expect((await g.jobs.get(jobId))?.status).toBe('COMPLETED');
    const after = await reads.appUi({ callerArn: AUDITOR }, jobId);
    expect(after).toMatchObject({ kind: 'persistent', ready: false });
    expect(after).not.toHaveProperty('url');
    const role = submitBody().executionRoleArn as string;
    expect(ui.calls).toEqual([
      { kind: 'on-cluster', input: { clusterId: CLUSTER, executionRoleArn: role } },
      { kind: 'persistent', input: { clusterId: CLUSTER, clusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${CLUSTER}`, executionRoleArn: role } },
    ]);
    expect(await rejection(reads.appUi({ callerArn: CAROL }, jobId))).toBeInstanceOf(ForbiddenError);
    expect(ui.calls).toHaveLength(2);
    // EMR's refusal is the state of things (409), with its reason.
    const next = await submitted();
    ui.refuse = 'The cluster is terminated.';
    const refused = await rejection(reads.appUi({ callerArn: AUDITOR }, next.jobId));
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toContain('The cluster is terminated.');
  });
});
