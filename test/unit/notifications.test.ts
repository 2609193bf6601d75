/**
 * Notifications in the job domain (src/notifications/): which jobs send which, the outbox written with the state
 * that makes a delivery due, the policy's say over `notify`, and the notifier's attempts, backoff, give-up and
 * leases, each attempt on the audit trail, against in-memory ports and a recording sender.
 */
import { Notifier, NOTIFIER_ACTOR } from '../../src/notifications/notifier';
import type { NotificationSender, SendOutcome, SnsRequest, WebhookRequest } from '../../src/notifications/ports';
import { signatureHeader, verifySignature } from '../../src/notifications/signature';
import { webhookUrlProblem } from '../../src/notifications/targets';
import { parseConfig } from '../../src/config-file/load';
import { ValidationError } from '../../src/errors';
import { parseJobRequest } from '../../src/jobs/request';
import type { JobStatus } from '../../src/jobs/model';
import { deliveriesDue } from '../../src/notifications/due';
import { verifiedTrail } from '../support/audit';
import { ALICE, CAROL, GATEWAY_CONFIG_YAML, loadTestConfig, role, submitBody } from '../support/config';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

const SECRET = 'whsec-0123456789abcdef';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:emr-jobs';
const CONFIG = GATEWAY_CONFIG_YAML.replace(
  'policies:\n',
  `notifications:
  - name: failures
    states: [FAILED, TIMED_OUT]
    jobs: { clusters: [j-2AXXXXXXGAPLF] }
    webhook: { url: "https://hooks.example.com/emr/T0K3N", secret: { secretsManager: "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf" } }
    retry: { attempts: 3, timeoutSeconds: 1, backoffSeconds: 1 }
  - name: team-topic
    states: [RUNNING, COMPLETED]
    sns: { topicArn: "${TOPIC}" }
  - name: rejections
    states: [REJECTED]
    jobs: { principals: ["arn:aws:iam::123456789012:role/Contractors"] }
    sns: { topicArn: "${TOPIC}" }
  - name: ops-only
    sns: { topicArn: "${TOPIC}" }
  - name: finance-alerts
    states: [REJECTED, COMPLETED]
    jobs: { tags: { team: finance } }
    sns: { topicArn: "${TOPIC}" }
policies:
  notify-limits:
    Version: "2012-10-17"
    Statement:
      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "*"
        Condition: { "ForAnyValue:StringNotEquals": { "emr-gateway:Notify": [team-topic] } }
`,
).replace('policies: [team-a], sessionNames: verified', 'policies: [team-a, notify-limits], sessionNames: verified');

class RecordingSender implements NotificationSender {
  readonly webhooks: WebhookRequest[] = [];
  readonly published: SnsRequest[] = [];
  webhookOutcomes: SendOutcome[] = [];
  webhook(request: WebhookRequest): Promise<SendOutcome> {
    this.webhooks.push(request);
    return Promise.resolve(this.webhookOutcomes.shift() ?? { ok: true, status: 204 });
  }
  sns(request: SnsRequest): Promise<SendOutcome> {
    this.published.push(request);
    return Promise.resolve({ ok: true, messageId: `m-${this.published.length}` });
  }
}

let g: MemoryGateway;
let sender: RecordingSender;
let notifier: Notifier;
let slept: number[];
beforeEach(() => {
  g = memoryGateway({ configYaml: CONFIG });
  sender = new RecordingSender();
  slept = [];
  notifier = new Notifier({
    notifications: g.config.notifications,
    jobs: g.jobs,
    audit: g.audit,
    sender,
    secrets: { get: () => Promise.resolve(SECRET) },
    apiUrl: 'https://api.example.com/v1/',
    now: g.clock.now,
    sleep: (ms) => {
      slept.push(ms);
      g.clock.advance(ms / 1000);
      return Promise.resolve();
    },
  });
});

const submit = async (body: Record<string, unknown> = submitBody(), callerArn = ALICE) => (await g.service.submit({ caller: { callerArn }, body })).job;
const events = async (jobId: string, type = 'NOTIFICATION') => (await g.audit.list(jobId)).filter((e) => e.type === type);

describe('the configuration', () => {
  test('a notification needs exactly one target, known clusters and an https URL (http only to loopback)', () => {
    const bad = GATEWAY_CONFIG_YAML.replace('policies:\n', `notifications:
  - { name: none, states: [FAILED] }
  - { name: both, sns: { topicArn: "${TOPIC}" }, webhook: { url: "https://a.example.com/", secret: { ssmParameter: /hook } } }
  - { name: where, jobs: { clusters: [j-NOPE] }, sns: { topicArn: "${TOPIC}" } }
policies:
`);
    expect(() => loadTestConfig(bad)).toThrow(/notifications\[0\]: needs exactly one target[\s\S]*notifications\[1\]: needs exactly one target[\s\S]*notifications\[2\]\.jobs\.clusters\[0\]: j-NOPE is not a configured cluster/);
    const plain = GATEWAY_CONFIG_YAML.replace('policies:\n', 'notifications:\n  - { name: plain, webhook: { url: "http://hooks.example.com/", secret: { ssmParameter: /hook } } }\npolicies:\n');
    expect(() => loadTestConfig(plain)).toThrow(/notifications\[0\]\.webhook\.url: must be an https:\/\/ URL/);
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook')).toBeUndefined();
    expect(webhookUrlProblem('https://user:pw@example.com/')).toMatch(/user name or password/);
    // A secret by its name alone: IAM grants GetSecretValue on the full ARN (with the 6 characters Secrets Manager adds).
    const partial = GATEWAY_CONFIG_YAML.replace('policies:\n', 'notifications:\n  - { name: partial, webhook: { url: "https://a.example.com/", secret: { secretsManager: "arn:aws:secretsmanager:us-east-1:123456789012:secret:emr-hook" } } }\npolicies:\n');
    expect(() => loadTestConfig(partial)).toThrow(/notifications\[0\]\.webhook\.secret\.secretsManager: must be the secret's full ARN/);
  });

  test('policy lint knows emr-gateway:Notify (a misspelt key is flagged)', () => {
    const withKey = (key: string) => GATEWAY_CONFIG_YAML.replace('Condition: { StringLike: {', `Condition: { "ForAllValues:StringEquals": { "${key}": [team-topic] }, StringLike: {`);
    const findings = (key: string) => parseConfig(withKey(key), '/test/gateway.yaml', { lint: 'report' }).findings.map((f) => f.message);
    expect(findings('emr-gateway:Notify')).toEqual([]);
    expect(findings('emr-gateway:Notfy')).toEqual([expect.stringContaining('the gateway never sets emr-gateway:Notfy')]);
  });

  test('states default to the terminal ones; retries to 5 attempts of 5 s, from 2 s apart', () => {
    expect(g.config.notifications.find((n) => n.name === 'ops-only')).toMatchObject({ states: ['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED', 'TIMED_OUT', 'REJECTED'], retry: { attempts: 5, timeoutSeconds: 5, backoffSeconds: 2 } });
  });
});

describe('which jobs send which notifications', () => {
  test('the selectors choose by cluster and principal; `notify` adds named ones the policy allows', async () => {
    const job = await submit(submitBody({ notify: ['team-topic'] }));
    expect(job.notifications).toEqual([{ name: 'failures', states: ['FAILED', 'TIMED_OUT'] }, { name: 'team-topic', states: ['RUNNING', 'COMPLETED'] }]);
    expect(job.notifyDue).toBeUndefined();
  });

  test('a notification the policy does not allow is a denial, decided on emr-gateway:Notify, and the denied job is not told', async () => {
    await expect(submit(submitBody({ notify: ['ops-only'] }))).rejects.toMatchObject({ name: 'ForbiddenError' });
    const [job] = [...g.jobs.items.values()];
    expect(job).toMatchObject({ status: 'REJECTED' });
    expect(job!.notifications?.map((n) => n.name)).toEqual(['failures']);
    expect(job!.notifyDue).toBeUndefined();
  });

  test('a malformed notify is a ValidationError naming it, whatever its shape', () => {
    const issues = (notify: unknown) => {
      try {
        parseJobRequest(submitBody({ notify }));
        return [];
      } catch (error) {
        return (error as ValidationError).issues.map((i) => `${i.field}: ${i.message}`);
      }
    };
    expect(issues('team-topic')).toEqual(['notify: must be an array of notification names (got a string)']);
    expect(issues([1])).toEqual(['notify[0]: must be a notification name (got a number)']);
    expect(issues(['bad name!'])).toEqual([expect.stringMatching(/^notify\[0\]: notification names are 1-64 letters/)]);
    expect(issues(['a', 'a'])).toEqual(['notify[1]: "a" is named twice']);
    expect(issues(Array.from({ length: 11 }, (_, i) => `n${i}`))).toEqual(['notify: at most 10 notifications']);
    expect(issues([])).toEqual([]);
  });

  test('a name the configuration does not have is a 400 on notify[i], before the policy (nothing recorded)', async () => {
    const error = await submit(submitBody({ notify: ['team-topic', 'nope'] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]).toMatchObject({ field: 'notify[1]', message: expect.stringMatching(/"nope" is not a configured notification \(configured: failures, team-topic, rejections, ops-only, finance-alerts\)/) });
    expect(g.jobs.items.size).toBe(0);
  });

  test("a denied request's own tags select nothing: only its principal and cluster, which the caller cannot choose, do", async () => {
    // carol is allowed nothing; her tags would otherwise make the gateway send the finance topic a REJECTED message.
    await expect(submit(submitBody({ tags: { team: 'finance' } }), 'arn:aws:sts::123456789012:assumed-role/Contractors/carol')).rejects.toMatchObject({ name: 'ForbiddenError' });
    const [job] = [...g.jobs.items.values()];
    expect(job!.notifications?.map((n) => n.name)).toEqual(['failures', 'rejections']);
    // An allowed request's tags passed the policy (aws:RequestTag): they select.
    const { job: allowed } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ tags: { team: 'finance' }, notify: ['team-topic'] }) });
    expect(allowed.notifications?.map((n) => n.name)).toEqual(['failures', 'team-topic', 'finance-alerts']);
  });

  test("each attempt's state is a delivery of its own: the second attempt's RUNNING is not the first's again", () => {
    const job = { jobId: 'job-1', notifications: [{ name: 'team-topic', states: ['RUNNING', 'PENDING'] as JobStatus[] }] };
    const first = deliveriesDue({ ...job }, 'RUNNING', 't1')!.notifyDue![0]!;
    const second = deliveriesDue({ ...job, attempt: 2 }, 'RUNNING', 't2')!.notifyDue![0]!;
    expect(first.id).toBe('job-1/RUNNING/team-topic');
    expect(second.id).toBe('job-1/RUNNING/team-topic/2');
    // The retried attempt's state enters through the journal's change: its attempt number is the one the change sets.
    expect(deliveriesDue({ ...job, attempt: 3, notifyDue: [second] }, 'RUNNING', 't3')!.notifyDue!.map((d) => d.id)).toEqual(['job-1/RUNNING/team-topic/2', 'job-1/RUNNING/team-topic/3']);
  });

  test('a job rejected at once has its rejection due from its first write', async () => {
    await expect(submit(submitBody(), `arn:aws:sts::123456789012:assumed-role/Contractors/carol`)).rejects.toMatchObject({ name: 'ForbiddenError' });
    const [job] = [...g.jobs.items.values()];
    expect(job!.notifyDue).toEqual([{ id: `${job!.jobId}/REJECTED/rejections`, name: 'rejections', state: 'REJECTED', at: job!.createdAt, attempts: 0 }]);
    expect(job!.notifyAt).toBe(job!.createdAt);
    void CAROL;
  });
});

describe('the outbox and the notifier', () => {
  test('each state a notification is sent at becomes due with the write that records it; delivered once, on the trail, then gone', async () => {
    const job = await submit(submitBody({ notify: ['team-topic'] }));
    await g.run(job.jobId);
    const ended = (await g.jobs.get(job.jobId))!;
    expect(ended.status).toBe('COMPLETED');
    expect(ended.notifyDue).toEqual([
      expect.objectContaining({ id: `${job.jobId}/RUNNING/team-topic`, state: 'RUNNING', attempts: 0 }),
      expect.objectContaining({ id: `${job.jobId}/COMPLETED/team-topic`, state: 'COMPLETED', attempts: 0 }),
    ]);

    const reports = await notifier.deliverJob(job.jobId);
    expect(reports).toEqual([expect.objectContaining({ outcome: 'delivered', attempt: 1 }), expect.objectContaining({ outcome: 'delivered', attempt: 1 })]);
    expect(sender.published).toHaveLength(2);
    const message = JSON.parse(sender.published[0]!.message) as Record<string, unknown>;
    expect(message).toMatchObject({
      type: 'emr-gateway.job-state-change',
      deliveryId: `${job.jobId}/RUNNING/team-topic`,
      jobId: job.jobId,
      name: 'nightly etl',
      status: 'RUNNING',
      clusterId: job.clusterId,
      executionRoleArn: role('CallerTeamRoleETL'),
      principal: role('DataTeamA'),
      sourceIdentity: 'alice',
      submittedAt: job.createdAt,
      startedAt: expect.any(String),
      links: { job: `https://api.example.com/v1/jobs/${job.jobId}`, logs: `https://api.example.com/v1/jobs/${job.jobId}/logs`, ui: `https://api.example.com/v1/jobs/${job.jobId}/ui`, audit: `https://api.example.com/v1/jobs/${job.jobId}/audit` },
    });
    expect(sender.published[0]).toMatchObject({ topicArn: TOPIC, subject: 'EMR job RUNNING: nightly etl', attributes: { status: 'RUNNING', notification: 'team-topic' } });
    const after = (await g.jobs.get(job.jobId))!;
    expect(after.notifyDue).toBeUndefined();
    expect(after.notifyAt).toBeUndefined();
    expect(JSON.parse(sender.published[1]!.message)).toMatchObject({ status: 'COMPLETED', endedAt: ended.finishedAt });
    expect(await events(job.jobId)).toEqual([
      expect.objectContaining({ actor: NOTIFIER_ACTOR, detail: expect.objectContaining({ outcome: 'delivered', attempt: 1, of: 5, target: 'sns', endpoint: TOPIC, messageId: 'm-1' }) }),
      expect.objectContaining({ detail: expect.objectContaining({ state: 'COMPLETED', messageId: 'm-2' }) }),
    ]);
    expect(await notifier.deliverJob(job.jobId)).toEqual([]);
    await verifiedTrail(g, job.jobId, { headAtEnd: true });
  });

  test('a failing webhook is retried with backoff, each attempt on the trail, then given up; the job is untouched', async () => {
    g.emr.nextScript = ['PENDING', 'FAILED'];
    g.emr.nextFailure = { reason: 'boom', message: 'exit 1' };
    const job = await submit();
    await g.run(job.jobId);
    sender.webhookOutcomes = [{ ok: false, status: 500, error: 'HTTP 500' }, { ok: false, error: 'timed out after 1 s' }, { ok: false, error: 'connect ECONNREFUSED' }];
    const reports = await notifier.deliverJob(job.jobId);
    expect(reports.map((r) => r.outcome)).toEqual(['failed', 'failed', 'abandoned']);
    expect(slept).toEqual([1000, 2000]);
    const trail = await events(job.jobId);
    expect(trail.map((e) => [e.detail?.attempt, e.detail?.outcome, e.detail?.httpStatus ?? e.detail?.error])).toEqual([[1, 'failed', 500], [2, 'failed', 'timed out after 1 s'], [3, 'abandoned', 'connect ECONNREFUSED']]);
    // The URL's path (a token, for Slack's) is kept out of the trail: its origin only.
    expect(trail[0]!.detail).toMatchObject({ target: 'webhook', endpoint: 'https://hooks.example.com' });
    expect(JSON.stringify(trail)).not.toContain('T0K3N');
    expect(JSON.stringify(trail)).not.toContain(SECRET);
    const ended = (await g.jobs.get(job.jobId))!;
    expect(ended).toMatchObject({ status: 'FAILED' });
    expect(ended.notifyDue).toBeUndefined();
    // Every attempt signed afresh, over the same body (the same delivery id).
    const first = sender.webhooks[0]!;
    expect(new Set(sender.webhooks.map((w) => w.body)).size).toBe(1);
    expect(first.headers['X-Emr-Gateway-Delivery']).toBe(`${job.jobId}/FAILED/failures`);
    expect(verifySignature(SECRET, first.headers['X-Emr-Gateway-Signature'], first.body, g.clock.now())).toEqual({ ok: true });
    expect(JSON.parse(first.body)).toMatchObject({ status: 'FAILED', failureDetails: { reason: 'boom', message: 'exit 1' }, endedAt: expect.any(String) });
    await verifiedTrail(g, job.jobId, { headAtEnd: true });
  });

  test('a delivery another notifier holds is left alone until its lease runs out; a crash between attempts resumes at the next one', async () => {
    g.emr.nextScript = ['FAILED'];
    const job = await submit();
    await g.run(job.jobId);
    // The first attempt fails, then the process "crashes" in its backoff sleep.
    sender.webhookOutcomes = [{ ok: false, status: 503, error: 'HTTP 503' }];
    const crashing = new Notifier({ notifications: g.config.notifications, jobs: g.jobs, audit: g.audit, sender, secrets: { get: () => Promise.resolve(SECRET) }, now: g.clock.now, sleep: () => Promise.reject(new Error('crash')) });
    await expect(crashing.deliverJob(job.jobId)).rejects.toThrow('crash');
    const left = (await g.jobs.get(job.jobId))!;
    expect(left.notifyDue).toEqual([expect.objectContaining({ attempts: 1, nextAt: expect.any(String) })]);
    expect(await notifier.sweep()).toMatchObject({ jobs: 0 }); // not yet: its backoff
    g.clock.advance(1);
    const run = await notifier.sweep();
    expect(run.attempts).toEqual([expect.objectContaining({ attempt: 2, outcome: 'delivered' })]);
    expect((await events(job.jobId)).map((e) => e.detail?.outcome)).toEqual(['failed', 'delivered']);
  });

  test('no attempt or wait is begun that would outlast the deadline (a Lambda invocation\'s time): the rest stays due', async () => {
    g.emr.nextScript = ['FAILED'];
    const job = await submit();
    await g.run(job.jobId);
    sender.webhookOutcomes = [{ ok: false, status: 500, error: 'HTTP 500' }];
    // Room for one attempt (1 s timeout), not for its 1 s backoff after it.
    const reports = await notifier.deliverJob(job.jobId, { deadline: g.clock.now().getTime() + 1500 });
    expect(reports.map((r) => r.outcome)).toEqual(['failed']);
    expect(slept).toEqual([]);
    expect((await g.jobs.get(job.jobId))!.notifyDue).toEqual([expect.objectContaining({ attempts: 1, nextAt: expect.any(String) })]);
    expect(await notifier.deliverJob(job.jobId, { deadline: g.clock.now().getTime() + 500 })).toEqual([]);
  });

  test('the signature is the HMAC-SHA256 of "<t>.<body>", checked within the tolerance', () => {
    const header = signatureHeader(SECRET, 1_700_000_000, '{"a":1}');
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, header, '{"a":1}', new Date(1_700_000_100_000))).toEqual({ ok: true });
    expect(verifySignature(SECRET, header, '{"a":2}', new Date(1_700_000_100_000))).toEqual({ ok: false, reason: 'no signature matches' });
    expect(verifySignature(SECRET, header, '{"a":1}', new Date(1_700_001_000_000))).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
  });
});
