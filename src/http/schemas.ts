/**
 * The API's requests as zod schemas: the same ones validate requests and generate docs/openapi.json, so the
 * description cannot drift from the code. Its responses are in response-schemas.ts, apart: they type the
 * handlers' answers, describe them in the document and check them in the client, but the API's Lambda
 * validates none at run time, so its bundle holds none of them (about 10 KB minified).
 */
import * as z from '../util/zod';
import { CLUSTER_ID, EXAMPLE_CLUSTER_ID, PRINCIPAL_ARN } from '../identifiers';
import { CANCEL_MODES, JOB_STATUSES } from '../jobs/model';
import { ACTIONS_ON_FAILURE, clusterIdField, executionRoleArnField, STEP_TYPES, strictObject } from '../jobs/request';
import { RETRY_LIMITS } from '../jobs/retry';
import { STEP_LOG_LIMITS, STEP_LOG_STREAMS } from '../jobs/step-logs';
import { describeValue } from '../util/validation';
import { SESSION_DURATION } from '../sessions/model';

const clusterId = z.string().check(z.regex(CLUSTER_ID, `must be an EMR cluster id such as ${EXAMPLE_CLUSTER_ID}`));

const isoTime = z.described(
  z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time with its zone, e.g. 2026-12-01T09:30:00Z or 2026-12-01T10:30:00+01:00' }),
  'ISO 8601 time, e.g. 2026-11-28T12:00:00Z',
);
const LIMIT = 'must be a whole number from 1 to 100';

export const listQuerySchema = z.described(
  z.strictObject({
    status: z.described(z.optional(z.enum(JOB_STATUSES)), 'Only jobs in this status.'),
    clusterId: z.optional(clusterId),
    caller: z.described(
      z.optional(z.string().check(z.regex(PRINCIPAL_ARN, 'must be an IAM role, user or STS session ARN'))),
      "Only this caller's jobs (an assumed-role session ARN means its role). Default: your own, unless status or clusterId is given.",
    ),
    from: z.described(z.optional(isoTime), 'Created at or after.'),
    to: z.described(z.optional(isoTime), 'Created at or before.'),
    limit: z._default(z.coerce.number({ error: LIMIT }).check(z.int({ error: LIMIT }), z.gte(1, { error: LIMIT }), z.lte(100, { error: LIMIT })), 20),
    nextToken: z.described(
      z.optional(z.string().check(z.maxLength(2048))),
      'The nextToken of the previous page: opaque (sealed; it reveals nothing), valid only for the caller it was issued to and with the same filters (status, clusterId, caller, from, to; limit may change), for 24 hours. Anything else is a 400 ValidationError on nextToken.',
    ),
  }),
  'GET /jobs query parameters',
);

export const cancelQuerySchema = z.strictObject({
  mode: z.described(z._default(z.enum(CANCEL_MODES), 'SEND_INTERRUPT'), 'SEND_INTERRUPT (SIGTERM, then SIGKILL) or TERMINATE_PROCESS (SIGKILL).'),
});

const TAIL = `must be a whole number from 1 to ${STEP_LOG_LIMITS.maxLines}`;
const ATTEMPT = `must be a whole number from 1 to ${RETRY_LIMITS.maxAttempts}: one of the job's attempts`;
const OFFSET = 'must be a whole number of bytes, 0 or more (a previous answer\'s nextOffset)';

export const logsQuerySchema = z.strictObject({
  stream: z.described(z._default(z.enum(STEP_LOG_STREAMS), 'stdout'), "Which of the step's logs: stdout (the default), stderr, controller (EMR's account of the step: the command, its start and end, the exit code) or syslog."),
  tail: z.described(
    z.optional(z.coerce.number({ error: TAIL }).check(z.int({ error: TAIL }), z.gte(1, { error: TAIL }), z.lte(STEP_LOG_LIMITS.maxLines, { error: TAIL }))),
    `The last N complete lines (default ${STEP_LOG_LIMITS.defaultTail} when offset is not given). Not with offset.`,
  ),
  offset: z.described(
    z.optional(z.coerce.number({ error: OFFSET }).check(z.int({ error: OFFSET }), z.gte(0, { error: OFFSET }), z.lte(Number.MAX_SAFE_INTEGER, { error: OFFSET }))),
    `The lines from this byte offset of the uncompressed log on, at most ${STEP_LOG_LIMITS.maxLines} lines and ${STEP_LOG_LIMITS.maxBytes} bytes of them: pass the previous answer's nextOffset to follow a running step. Not with tail.`,
  ),
  attempt: z.described(
    z.optional(z.coerce.number({ error: ATTEMPT }).check(z.int({ error: ATTEMPT }), z.gte(1, { error: ATTEMPT }), z.lte(RETRY_LIMITS.maxAttempts, { error: ATTEMPT }))),
    "A job with retries: which attempt's step (see the job's attempts). Default: the current attempt's, or between attempts the last one's.",
  ),
});

export const rolesQuerySchema = z.strictObject({
  clusterId: z.optional(clusterId),
});

export const decisionQuerySchema = z.described(
  z.strictObject({
    clusterId: z.described(clusterId, 'The cluster to submit to'),
    executionRoleArn: z.described(z.string().check(z.maxLength(2048)), 'The runtime role the step would run as'),
    stepType: z.described(z.enum(STEP_TYPES), `The step's type: ${STEP_TYPES.join(', ')}`),
    actionOnFailure: z.described(z.optional(z.enum(ACTIONS_ON_FAILURE)), "The step's actionOnFailure (default: the submission's default, CONTINUE)"),
  }),
  'GET /decision query parameters: a submission as the policy would see it (no job is made, nothing is recorded)',
);

export const queuesQuerySchema = z.strictObject({
  clusterId: z.described(clusterId, 'The cluster whose admission queue to show'),
});

export const usageQuerySchema = z.strictObject({
  from: z.described(z.optional(z.string().check(z.maxLength(64))), 'ISO 8601 time or day: jobs that ended at or after it (default: 7 days before `to`)'),
  to: z.described(z.optional(z.string().check(z.maxLength(64))), 'ISO 8601 time or day: jobs that ended at or before it (default: now); at most 92 days after `from`'),
  groupBy: z.described(z.optional(z.string().check(z.maxLength(140))), 'principal (the default), role, cluster, or tag:KEY'),
});

/** A parameter override: a template's parameters are short values (a key, a day, a table), never documents. */
const MAX_RERUN_PARAMETERS = 50;
export const rerunRequestSchema = z.described(
  z.strictObject({
    parameters: z.described(
      z.optional(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(1024))).check(z.refine((p) => Object.keys(p).length <= MAX_RERUN_PARAMETERS, `at most ${MAX_RERUN_PARAMETERS} parameters`))),
      "Overrides of the parameters of a job a template made (a schedule's or trigger's run): each checked as the template checks an event's value.",
    ),
  }),
  'POST /jobs/{jobId}/rerun (optional body)',
);

// ---- Interactive sessions (POST /sessions) -------------------------------------------------------------------

const durationMessage = (iss: { input?: unknown }) =>
  `must be a whole number of seconds from ${SESSION_DURATION.minSeconds} to ${SESSION_DURATION.maxSeconds} (12 hours) (got ${describeValue(iss.input)})`;

export const sessionRequestSchema = z.described(
  strictObject(
    {
      clusterId: clusterIdField(),
      executionRoleArn: executionRoleArnField('The IAM runtime role the session works as (the role ARN, not an STS session ARN).'),
      durationSeconds: z.described(
        z.optional(z.number({ error: durationMessage }).check(z.int({ error: durationMessage }), z.gte(SESSION_DURATION.minSeconds, { error: durationMessage }), z.lte(SESSION_DURATION.maxSeconds, { error: durationMessage }))),
        `The life the session is wanted for, ${SESSION_DURATION.minSeconds} to ${SESSION_DURATION.maxSeconds} seconds: recorded with the decision and the session. ` +
          "EMR alone sets how long its credentials last (GetClusterSessionCredentials takes no duration): expiresAt is EMR's, never extended or shortened.",
      ),
    },
    'the request body',
  ),
  'POST /sessions: interactive-session credentials for a cluster under an IAM runtime role (EMR GetClusterSessionCredentials).',
);

export const sessionListQuerySchema = z.described(
  z.strictObject({
    limit: z._default(z.coerce.number({ error: LIMIT }).check(z.int({ error: LIMIT }), z.gte(1, { error: LIMIT }), z.lte(100, { error: LIMIT })), 20),
    nextToken: z.described(
      z.optional(z.string().check(z.maxLength(2048))),
      'The nextToken of the previous page: opaque (sealed), valid only for the caller it was issued to, for 24 hours.',
    ),
  }),
  'GET /sessions query parameters',
);

export type ListQuery = z.output<typeof listQuerySchema>;
