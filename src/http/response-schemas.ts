/**
 * The API's responses as zod schemas: they type the handlers' answers (views.ts), generate their part of
 * docs/openapi.json and are checked by the client (src/client) on every answer. Apart from the request schemas
 * (schemas.ts), which the API's Lambda runs, because nothing on the server validates a response at run time:
 * the API's bundle leaves these out.
 */
import * as z from '../util/zod';
import { CANCEL_MODES, JOB_STATUSES } from '../jobs/model';
import { STEP_LOG_LIMITS, STEP_LOG_STREAMS } from '../jobs/step-logs';
import { SESSION_STATUSES } from '../sessions/model';

const optionalString = (description: string) => z.described(z.optional(z.string()), description);

export const queueViewSchema = z.described(
  z.object({
    clusterId: z.string(),
    maxActiveJobs: z.described(z.number(), "The cluster's capacity: the gateway's jobs active on it at once"),
    maxQueuedJobs: z.described(z.number(), 'Jobs that may wait; beyond them POST /jobs answers 429 QueueFull'),
    active: z.number(),
    queued: z.number(),
    groups: z.described(
      z.array(z.object({ name: z.string(), active: z.number(), queued: z.number(), maxActiveJobs: z.optional(z.number()), maxQueuedJobs: z.optional(z.number()) })),
      "The principal groups (config quotas; `default` for callers no quota matches) with their jobs and own limits",
    ),
    entries: z.described(
      z.array(z.object({ position: z.number(), group: z.string(), priority: z.number(), queuedAt: z.string(), jobId: z.optional(z.string()) })),
      "The queued jobs in the order they are expected to start (fair between groups, then by priority, then oldest); jobId only on the caller's own jobs",
    ),
  }),
  'GET /queues: a cluster\'s capacity and its admission queue',
);

const usageCountsSchema = z.object({
  jobs: z.number(),
  byStatus: z.described(z.record(z.string(), z.number()), 'Jobs by final status (only those with any)'),
  stepSeconds: z.described(z.number(), "Seconds their steps ran by EMR's step timelines (StartDateTime to EndDateTime), every attempt's"),
});

export const usageResponseSchema = z.described(
  z.object({
    from: z.string(),
    to: z.string(),
    groupBy: z.string(),
    groups: z.described(z.array(z.object({ key: z.nullable(z.string()), ...usageCountsSchema.shape })), 'Largest step-seconds first; key null: the jobs without the tag'),
    total: usageCountsSchema,
  }),
  'GET /usage: the jobs that ended in the range that the caller may list, counted',
);

export const errorSchema = z.described(
  z.object({
    error: z.object({
      code: z.described(z.string(), 'ValidationError, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, EmrRejected, ServiceUnavailable, InternalError'),
      message: z.string(),
      details: z.optional(z.record(z.string(), z.unknown())),
    }),
  }),
  'Every error',
);

const decisionSchema = z.object({ result: z.enum(['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied']), reason: z.string() });

const callerSchema = z.object({
  principalArn: z.string(),
  callerArn: z.string(),
  sourceIdentity: optionalString('The person: a session name its principals rule marks verified, or a schedule or trigger'),
  sessionName: optionalString('A session name that is not verified: chosen by whoever called AssumeRole, not an identity'),
  trigger: z.optional(z.string()),
});

const failureDetailsSchema = z.object({ reason: z.optional(z.string()), message: z.optional(z.string()), logFile: z.optional(z.string()) });
const stateChangeReasonSchema = z.object({ code: z.optional(z.string()), message: z.optional(z.string()) });

const attemptSchema = z.described(
  z.object({
    attempt: z.number(),
    stepId: z.described(z.string(), "The attempt's EMR step: its name ends with [JOB_ID] for the first attempt, [JOB_ID#N] for attempt N."),
    state: optionalString("The step's EMR state (the last one recorded)."),
    submittedAt: z.optional(z.string()),
    endedAt: z.optional(z.string()),
    failureDetails: z.optional(failureDetailsSchema),
    stateChangeReason: z.optional(stateChangeReasonSchema),
  }),
  'One attempt of a job with a retry policy: a new EMR step under the same decision.',
);

export const jobViewSchema = z.described(
  z.object({
    jobId: z.string(),
    status: z.enum(JOB_STATUSES),
    name: z.string(),
    clusterId: z.string(),
    executionRoleArn: z.string(),
    stepType: z.string(),
    caller: callerSchema,
    step: z.object({ id: z.optional(z.string()), state: z.optional(z.string()) }),
    actionOnFailure: z.string(),
    timeoutSeconds: z.optional(z.number()),
    tags: z.optional(z.record(z.string(), z.string())),
    decision: decisionSchema,
    retry: z.described(
      z.optional(z.object({ maxAttempts: z.number(), intervalSeconds: z.number(), backoff: z.number(), on: z.array(z.string()) })),
      "The job's retry policy: the request's, or its cluster's defaultRetry (with the defaults filled in).",
    ),
    attempt: z.described(z.optional(z.number()), 'With a retry policy: the attempt the job is on (1, 2, ...). The status stays PENDING between attempts; the job ends with the last attempt\'s outcome.'),
    attempts: z.described(z.optional(z.array(attemptSchema)), 'With a retry policy: every attempt so far, in order, the current one last once its step is added.'),
    nextAttemptAt: optionalString('Between attempts (no step runs): when the next attempt is due. A cancel now ends the job CANCELLED at once.'),
    failureDetails: z.optional(failureDetailsSchema),
    stateChangeReason: z.described(
      z.optional(stateChangeReasonSchema),
      "EMR's StateChangeReason for how the step ended, e.g. that EMR cancelled it because another step on the cluster failed with CANCEL_AND_WAIT.",
    ),
    cancelRequested: z.optional(z.object({ by: z.string(), mode: z.enum(CANCEL_MODES), at: z.string() })),
    createdAt: z.string(),
    updatedAt: z.string(),
    submittedAt: z.optional(z.string()),
    finishedAt: z.optional(z.string()),
    admission: z.described(
      z.optional(z.object({ group: z.string(), priority: z.number(), queuedAt: z.optional(z.string()), admittedAt: z.optional(z.string()) })),
      "Its place in the cluster's admission: the principal group it counts against, its priority, when it was queued (if it waited) and admitted.",
    ),
    stepSeconds: z.described(z.optional(z.number()), "Once ended: how long its steps ran by EMR's step timelines, every attempt's (GET /usage sums them)."),
    idempotencyKey: optionalString("The caller's Idempotency-Key (API submissions)."),
    invocation: optionalString("The schedule's or trigger's run this job is, e.g. schedule:nightly:2026-11-28T02:00:00.000Z (its own namespace: no Idempotency-Key reaches it)."),
    rerunOf: optionalString('The job this one reruns (POST /jobs/{jobId}/rerun).'),
    reruns: z.described(z.optional(z.array(z.string())), 'The jobs that rerun this one, oldest first (the last 100).'),
    template: z.described(
      z.optional(z.object({ name: z.string(), parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) })),
      'The template and parameter values a schedule or trigger (or a rerun with overrides) made this job from.',
    ),
    notifications: z.described(
      z.optional(z.array(z.object({ name: z.string(), states: z.array(z.enum(JOB_STATUSES)) }))),
      'The notifications this job sends (those the configuration selects it for and those its request named), and at which states.',
    ),
    deliveriesDue: z.described(
      z.optional(z.array(z.object({ id: z.string(), name: z.string(), state: z.enum(JOB_STATUSES), attempts: z.number(), nextAt: z.optional(z.string()) }))),
      'Deliveries not sent yet (each attempt is a NOTIFICATION event of the audit trail).',
    ),
    links: z.object({ self: z.string(), audit: z.string(), logs: z.optional(z.string()), ui: z.optional(z.string()) }),
  }),
  'A job',
);

export const rerunResponseSchema = z.described(
  z.object({ jobId: z.string(), status: z.enum(JOB_STATUSES), replayed: z.boolean(), rerunOf: z.string(), links: z.object({ self: z.string(), audit: z.string() }) }),
  'POST /jobs/{jobId}/rerun: the new job (202); the same Idempotency-Key answers the same one with replayed: true',
);

export const submitResponseSchema = z.described(
  z.object({ jobId: z.string(), status: z.enum(JOB_STATUSES), replayed: z.boolean(), links: z.object({ self: z.string(), audit: z.string() }) }),
  'POST /jobs: accepted (202); the same Idempotency-Key and body answer the same job with replayed: true',
);

export const jobListSchema = z.described(
  z.object({
    jobs: z.described(
      z.array(jobViewSchema),
      'Newest first; only jobs this caller may read (GET /jobs/{jobId}) and list (ListSteps). A page may be shorter than limit, even empty, and still have a nextToken.',
    ),
    nextToken: optionalString('Present when the listing goes on: pass it as nextToken, with the same filters, as the same caller, within 24 hours. Opaque.'),
  }),
  'GET /jobs',
);

const optionalRecord = () => z.optional(z.record(z.string(), z.unknown()));
const optionalNumber = (description: string) => z.described(z.optional(z.number()), description);

/** An audit trail's fields, for a job's (GET /jobs/{jobId}/audit) and an interactive session's (GET /sessions/{sessionId}/audit). */
const auditTrailShape = {
    events: z.array(
      z.object({
        seq: z.number(),
        type: z.string(),
        at: z.string(),
        actor: optionalRecord(),
        subject: optionalRecord(),
        decision: optionalRecord(),
        emr: optionalRecord(),
        detail: optionalRecord(),
        dedupeKey: z.string(),
        prevHash: z.string(),
        hash: z.described(z.string(), 'SHA-256 of the canonical JSON of the event without hash, mac and keyId'),
        mac: optionalString("The audit key's HMAC-SHA-256 (KMS GenerateMac) of the event's hash, base64"),
        keyId: optionalString('The KMS key that made mac'),
      }),
    ),
    head: z.described(
      z.object({ seq: z.number(), hash: z.string() }),
      'The chain head the job records (its last event written through): a cut tail or an append after it shows against this',
    ),
    verification: z.described(
      z.object({
        ok: z.boolean(),
        events: z.number(),
        head: optionalString('The hash of the last event'),
        macs: z.described(z.optional(z.enum(['verified', 'unchecked'])), 'verified: every MAC was checked with the audit key (KMS VerifyMac) by the gateway'),
        inFlight: z.described(
          z.optional(z.object({ seq: z.number(), at: z.string() })),
          'The one event beyond the head tolerated while its write is in flight (at most 300 s old)',
        ),
        seq: z.optional(z.number()),
        problem: z.optional(z.string()),
      }),
      "The gateway's verification: links, hashes, each event's MAC, event 0 a DECISION, and the head",
    ),
    anchor: z.described(
      z.object({
        status: z.described(
          z.enum(['anchored', 'pending', 'broken']),
          'anchored: the chain still holds the event its newest digest recorded; pending: no digest has had to record it yet; broken: rolled back, rewritten, or a digest or anchor that is not the gateway\'s',
        ),
        digest: z.described(z.optional(z.object({ number: z.number(), to: z.string() })), 'The newest digest that recorded this chain (signature verified)'),
        seq: optionalNumber('anchored: the event that digest recorded as the head; broken: where the break shows'),
        hash: optionalString("anchored: that event's hash, as the digest recorded it"),
        reason: z.optional(z.string()),
        problem: z.optional(z.string()),
        latestDigest: z.described(
          z.optional(z.object({ number: z.number(), to: z.string() })),
          'The newest digest of all (signature verified): changes up to `to` are covered',
        ),
      }),
      'The trail against the signed, chained digests of the chain heads kept outside the tables (S3 with Object Lock): detects a rollback to an older, validly sealed state',
    ),
};

export const auditResponseSchema = z.described(
  z.object({ jobId: z.string(), ...auditTrailShape }),
  "GET /jobs/{jobId}/audit: the job's events in order, sealed and hash-chained, the head the job records, the gateway's verification, and the anchor in the digests",
);

const statementRefSchema = z.described(
  z.object({ policy: z.string(), index: z.number(), sid: z.optional(z.string()), effect: z.enum(['Allow', 'Deny']) }),
  'A statement of a configured policy: the policy, the statement\'s index in it and its Sid',
);

export const decisionResponseSchema = z.described(
  z.object({
    clusterId: z.string(),
    executionRoleArn: z.string(),
    stepType: z.string(),
    actionOnFailure: z.string(),
    action: z.string(),
    resource: z.string(),
    allowed: z.boolean(),
    result: z.enum(['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied']),
    reason: z.described(z.string(), 'One line for people, e.g. "denied by team-a statement 2 (Sid DenyProd)"'),
    rule: z.described(z.optional(z.object({ index: z.number(), match: z.string() })), 'The principals rule that matched the caller'),
    allowedBy: z.array(statementRefSchema),
    deniedBy: z.array(statementRefSchema),
    nearMisses: z.described(
      z.array(z.object({ statement: statementRefSchema, failedConditions: z.described(z.array(z.string()), 'The conditions that did not hold, as "Operator key"') })),
      'Denied: the Allow statements for this action whose conditions did not hold, nearest first',
    ),
  }),
  "GET /decision: the policy's decision on a submission by this caller, with its reasons (\"may I?\")",
);

export const rolesResponseSchema = z.described(
  z.object({
    clusters: z.array(
      z.object({
        clusterId: z.string(),
        roles: z.array(
          z.object({
            roleArn: z.string(),
            stepTypes: z.array(z.string()),
            reason: optionalString("Why the role is usable: the policy decision's reason for its first allowed step type"),
            allowedBy: z.described(z.optional(z.array(statementRefSchema)), 'The statements that allow it'),
          }),
        ),
        unavailable: optionalString(
          'Present where the cluster takes no runtime-role step (its security configuration does not enable runtime roles): why no role is offered',
        ),
      }),
    ),
  }),
  'GET /roles: the runtime roles this caller may use, per cluster, with the step types allowed',
);

export const logsResponseSchema = z.described(
  z.object({
    jobId: z.string(),
    stepId: z.string(),
    stream: z.enum(STEP_LOG_STREAMS),
    logUri: z.described(z.string(), 'The S3 object read: <LogUri><clusterId>/steps/<stepId>/<stream>.gz, where EMR archives the step\'s log'),
    lastModified: optionalString('When EMR last uploaded the log (every few minutes while the step runs, and at its end)'),
    lines: z.described(z.array(z.string()), 'Complete lines, in order, without their newline; UTF-8 (an invalid byte is U+FFFD). Untrusted text: escape it before display.'),
    offset: z.described(z.number(), 'The byte offset (in the uncompressed log) of the first line'),
    nextOffset: z.described(z.number(), 'The byte offset just after the last line: ask with offset=nextOffset for what follows'),
    partial: optionalString('The last line, not ended by a newline yet, when the answer reaches the end of the log (not counted in nextOffset: it comes again, complete)'),
    more: z.described(z.boolean(), 'The log holds lines after nextOffset that this answer left out (its line or byte bound): ask again at once'),
    cutLines: z.described(z.number(), `Lines longer than ${STEP_LOG_LIMITS.maxLineBytes} bytes, cut to that length`),
    size: optionalNumber('The uncompressed size of the log, when this answer read it to its end'),
  }),
  "GET /jobs/{jobId}/logs: a window of the step's log, from the cluster's LogUri",
);

export const appUiResponseSchema = z.described(
  z.object({
    jobId: z.string(),
    stepId: z.string(),
    kind: z.described(
      z.enum(['on-cluster', 'persistent']),
      "on-cluster: the cluster's Spark History Server, while the job runs (EMR GetOnClusterAppUIPresignedURL); persistent: the application history EMR keeps off the cluster, once the job has ended (CreatePersistentAppUI, GetPersistentAppUIPresignedURL)",
    ),
    ready: z.described(z.boolean(), 'EMR\'s PresignedURLReady: false while EMR prepares the UI; ask again in a few seconds'),
    url: optionalString('The presigned link, under the job\'s runtime role (it shows what that role ran on the cluster). Short-lived, and a credential while it lasts: do not log or share it.'),
  }),
  "GET /jobs/{jobId}/ui: a presigned link to the job's Spark UI and application history, under its runtime role",
);

export const healthSchema = z.object({ status: z.literal('ok'), version: z.string() });

const sessionShape = {
  sessionId: z.string(),
  status: z.described(z.enum(SESSION_STATUSES), 'ISSUED: EMR issued the credentials; DENIED: the policy refused; FAILED: allowed, but EMR refused or failed (failure says how)'),
  clusterId: z.string(),
  executionRoleArn: z.string(),
  caller: callerSchema,
  decision: decisionSchema,
  durationSeconds: optionalNumber('The life asked for (EMR sets the expiry).'),
  username: optionalString("The credentials' user name (the password is only in the answer to POST /sessions)."),
  expiresAt: optionalString("EMR's ExpiresAt: the credentials expire then."),
  endpoints: z.described(
    z.optional(z.object({ masterPublicDnsName: z.string(), livy: optionalString("Livy's REST endpoint on the primary node (sparkmagic's url), where the cluster has Livy") })),
    "The cluster's endpoints a notebook connects to (EMR DescribeCluster)",
  ),
  failure: z.optional(z.object({ error: z.string(), message: z.string() })),
  createdAt: z.string(),
  links: z.object({ self: z.string(), audit: z.string() }),
};

export const sessionViewSchema = z.described(z.object(sessionShape), 'An interactive session, without its password');

export const sessionOpenedSchema = z.described(
  z.object({
    ...sessionShape,
    credentials: z.described(
      z.object({ username: z.string(), password: z.string() }),
      "HTTP basic credentials for the cluster's endpoints (Livy), valid until expiresAt. Only in this answer: the gateway keeps no password.",
    ),
  }),
  'POST /sessions: issued (201)',
);

export const sessionListSchema = z.described(
  z.object({
    sessions: z.described(z.array(sessionViewSchema), "Newest first; only the caller's own (its principal's), denied and failed ones too. A page may be shorter than limit."),
    nextToken: optionalString('Present when more may follow: pass it as nextToken, as the same caller, within 24 hours. Opaque.'),
  }),
  'GET /sessions',
);

export const sessionAuditResponseSchema = z.described(
  z.object({ sessionId: z.string(), ...auditTrailShape }),
  "GET /sessions/{sessionId}/audit: the session's events in order (DECISION, then CREDENTIALS_ISSUED or ISSUE_FAILED), sealed and hash-chained, the head its record holds, the gateway's verification, and the anchor in the digests",
);

export type JobView = z.output<typeof jobViewSchema>;
export type SessionView = z.output<typeof sessionViewSchema>;
