/**
 * The API's shapes as zod schemas: the same ones validate requests, type the handlers' responses and
 * generate docs/openapi.json, so the description cannot drift from the code.
 */
import { z } from 'zod';
import { CLUSTER_ID, EXAMPLE_CLUSTER_ID, PRINCIPAL_ARN } from '../identifiers';
import { CANCEL_MODES, JOB_STATUSES } from '../jobs/model';

const clusterId = z.string().regex(CLUSTER_ID, `must be an EMR cluster id such as ${EXAMPLE_CLUSTER_ID}`);

const isoTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 time with its zone, e.g. 2026-12-01T09:30:00Z or 2026-12-01T10:30:00+01:00' })
  .describe('ISO 8601 time, e.g. 2026-11-28T12:00:00Z');
const LIMIT = 'must be a whole number from 1 to 100';

export const listQuerySchema = z
  .strictObject({
    status: z.enum(JOB_STATUSES).optional().describe('Only jobs in this status.'),
    clusterId: clusterId.optional(),
    caller: z.string().regex(PRINCIPAL_ARN, 'must be an IAM role, user or STS session ARN').optional()
      .describe("Only this caller's jobs (an assumed-role session ARN means its role). Default: your own, unless status or clusterId is given."),
    from: isoTime.optional().describe('Created at or after.'),
    to: isoTime.optional().describe('Created at or before.'),
    limit: z.coerce.number({ error: LIMIT }).int({ error: LIMIT }).min(1, { error: LIMIT }).max(100, { error: LIMIT }).default(20),
    nextToken: z.string().max(2048).optional()
      .describe('The nextToken of the previous page: opaque (sealed; it reveals nothing), valid only for the caller it was issued to and with the same filters (status, clusterId, caller, from, to; limit may change), for 24 hours. Anything else is a 400 ValidationError on nextToken.'),
  })
  .describe('GET /jobs query parameters');

export const cancelQuerySchema = z.strictObject({
  mode: z.enum(CANCEL_MODES).default('SEND_INTERRUPT').describe('SEND_INTERRUPT (SIGTERM, then SIGKILL) or TERMINATE_PROCESS (SIGKILL).'),
});

export const rolesQuerySchema = z.strictObject({
  clusterId: clusterId.optional(),
});

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('ValidationError, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, InternalError'),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .describe('Every error');

const decisionSchema = z.object({ result: z.enum(['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied']), reason: z.string() });

export const jobViewSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(JOB_STATUSES),
    name: z.string(),
    clusterId: z.string(),
    executionRoleArn: z.string(),
    stepType: z.string(),
    caller: z.object({
      principalArn: z.string(),
      callerArn: z.string(),
      sourceIdentity: z.string().optional().describe('The person: a session name its principals rule marks verified, or a schedule or trigger'),
      sessionName: z.string().optional().describe('A session name that is not verified: chosen by whoever called AssumeRole, not an identity'),
      trigger: z.string().optional(),
    }),
    step: z.object({ id: z.string().optional(), state: z.string().optional() }),
    actionOnFailure: z.string(),
    timeoutSeconds: z.number().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    decision: decisionSchema,
    failureDetails: z.object({ reason: z.string().optional(), message: z.string().optional(), logFile: z.string().optional() }).optional(),
    stateChangeReason: z
      .object({ code: z.string().optional(), message: z.string().optional() })
      .optional()
      .describe("EMR's StateChangeReason for how the step ended, e.g. that EMR cancelled it because another step on the cluster failed with CANCEL_AND_WAIT."),
    cancelRequested: z.object({ by: z.string(), mode: z.enum(CANCEL_MODES), at: z.string() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    submittedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    idempotencyKey: z.string().optional().describe("The caller's Idempotency-Key (API submissions)."),
    invocation: z.string().optional().describe("The schedule's or trigger's run this job is, e.g. schedule:nightly:2026-11-28T02:00:00.000Z (its own namespace: no Idempotency-Key reaches it)."),
    links: z.object({ self: z.string(), audit: z.string() }),
  })
  .describe('A job');

export const submitResponseSchema = z
  .object({ jobId: z.string(), status: z.enum(JOB_STATUSES), replayed: z.boolean(), links: z.object({ self: z.string(), audit: z.string() }) })
  .describe('POST /jobs: accepted (202); the same Idempotency-Key and body answer the same job with replayed: true');

export const jobListSchema = z
  .object({
    jobs: z.array(jobViewSchema).describe('Newest first; only jobs this caller may read (GET /jobs/{jobId}) and list (ListSteps). A page may be shorter than limit, even empty, and still have a nextToken.'),
    nextToken: z.string().optional().describe('Present when the listing goes on: pass it as nextToken, with the same filters, as the same caller, within 24 hours. Opaque.'),
  })
  .describe('GET /jobs');

export const auditResponseSchema = z
  .object({
    jobId: z.string(),
    events: z.array(
      z.object({
        seq: z.number(),
        type: z.string(),
        at: z.string(),
        actor: z.record(z.string(), z.unknown()).optional(),
        subject: z.record(z.string(), z.unknown()).optional(),
        decision: z.record(z.string(), z.unknown()).optional(),
        emr: z.record(z.string(), z.unknown()).optional(),
        detail: z.record(z.string(), z.unknown()).optional(),
        dedupeKey: z.string(),
        prevHash: z.string(),
        hash: z.string().describe('SHA-256 of the canonical JSON of the event without hash, mac and keyId'),
        mac: z.string().optional().describe("The audit key's HMAC-SHA-256 (KMS GenerateMac) of the event's hash, base64"),
        keyId: z.string().optional().describe('The KMS key that made mac'),
      }),
    ),
    head: z
      .object({ seq: z.number(), hash: z.string() })
      .describe('The chain head the job records (its last event written through): a cut tail or an append after it shows against this'),
    verification: z
      .object({
        ok: z.boolean(),
        events: z.number(),
        head: z.string().optional().describe('The hash of the last event'),
        macs: z.enum(['verified', 'unchecked']).optional().describe('verified: every MAC was checked with the audit key (KMS VerifyMac) by the gateway'),
        inFlight: z.object({ seq: z.number(), at: z.string() }).optional().describe('The one event beyond the head tolerated while its write is in flight (at most 300 s old)'),
        seq: z.number().optional(),
        problem: z.string().optional(),
      })
      .describe("The gateway's verification: links, hashes, each event's MAC, event 0 a DECISION, and the head"),
    anchor: z
      .object({
        status: z.enum(['anchored', 'pending', 'broken']).describe('anchored: the chain still holds the event its newest digest recorded; pending: no digest has had to record it yet; broken: rolled back, rewritten, or a digest or anchor that is not the gateway\'s'),
        digest: z.object({ number: z.number(), to: z.string() }).optional().describe('The newest digest that recorded this chain (signature verified)'),
        seq: z.number().optional().describe('anchored: the event that digest recorded as the head; broken: where the break shows'),
        hash: z.string().optional().describe("anchored: that event's hash, as the digest recorded it"),
        reason: z.string().optional(),
        problem: z.string().optional(),
        latestDigest: z.object({ number: z.number(), to: z.string() }).optional().describe('The newest digest of all (signature verified): changes up to `to` are covered'),
      })
      .describe('The trail against the signed, chained digests of the chain heads kept outside the tables (S3 with Object Lock): detects a rollback to an older, validly sealed state'),
  })
  .describe("GET /jobs/{jobId}/audit: the job's events in order, sealed and hash-chained, the head the job records, the gateway's verification, and the anchor in the digests");

export const rolesResponseSchema = z
  .object({
    clusters: z.array(
      z.object({
        clusterId: z.string(),
        roles: z.array(z.object({ roleArn: z.string(), stepTypes: z.array(z.string()) })),
        unavailable: z.string().optional().describe('Present where the cluster takes no runtime-role step (its security configuration does not enable runtime roles): why no role is offered'),
      }),
    ),
  })
  .describe('GET /roles: the runtime roles this caller may use, per cluster, with the step types allowed');

export const healthSchema = z.object({ status: z.literal('ok'), version: z.string() });

export type JobView = z.infer<typeof jobViewSchema>;
export type ListQuery = z.output<typeof listQuerySchema>;
