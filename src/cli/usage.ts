/** Exit codes (DESIGN.md), usage errors and the help shared by every command. */
import { JOB_STATUSES } from '../jobs/model';
import { ACTIONS_ON_FAILURE } from '../jobs/request';
import { editDistance } from '../util/edit-distance';

/** `doctor --stage`'s default (npm run package's): here, so the help and the command cannot disagree. */
export const DEFAULT_DOCTOR_STAGE = 'dev';

export const EXIT = { ok: 0, failed: 1, usage: 2, denied: 3, notFound: 4, unavailable: 5 } as const;

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** A flag's value, or a usage error naming the flag. */
export function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

/** The one positional argument of the commands that act on a job. */
export function jobIdArg(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError('give one job id');
  return positionals[0]!;
}

export const USAGE = `emr-gateway: submit and follow Amazon EMR steps under IAM runtime roles, through the gateway.

Against a gateway (--endpoint URL or EMR_GATEWAY_ENDPOINT; requests are signed with AWS SigV4 from the
standard AWS credential chain: environment, --profile/AWS_PROFILE, SSO, instance roles):
  emr-gateway submit --cluster ID --role ROLE_ARN --name NAME STEP [--timeout SECONDS] [--action-on-failure A]
                     [--retry N [--retry-interval S] [--retry-backoff X] [--retry-on STATES]]
                     [--tag KEY=VALUE ...] [--notify NAME ...] [--idempotency-key KEY] [--wait]
      STEP is one of:  -- COMMAND ARGS...             a command (command-runner.jar), e.g. -- bash -c 'echo hi'
                       --spark -- SPARK_SUBMIT_ARGS...  spark-submit with these arguments
                       --hive SCRIPT [-- ARGS...]        a Hive script (s3://... or an absolute path)
                       --jar JAR [--main-class C] [-- ARGS...]
      Without --idempotency-key one is generated and printed: repeat it to retry safely.
  emr-gateway status JOB_ID             the job: status, EMR step and state, attempts, role, caller, times, failure
  emr-gateway wait JOB_ID               follow the job to its end, with live progress
  emr-gateway rerun JOB_ID [--param NAME=VALUE ...] [--idempotency-key KEY] [--wait]
      a new job from the job's request, decided again as you; --param overrides a template's parameter
  emr-gateway cancel JOB_ID [--mode SEND_INTERRUPT|TERMINATE_PROCESS] [--wait]
  emr-gateway list [--status S] [--cluster ID] [--caller ARN] [--from T] [--to T] [--limit N] [--next-token T] [--all]
      T: an ISO 8601 time with its zone (2026-12-01T09:30:00Z, 2026-12-01T10:30:00+01:00) or a day (2026-12-01, UTC).
  emr-gateway audit JOB_ID|SESSION_ID [--verify]   the audit events; --verify checks the hash chain here
  emr-gateway logs JOB_ID [--stream S] [--stderr] [--tail N] [--attempt N] [--follow]   the step's log, from the cluster's LogUri
  emr-gateway ui JOB_ID [--open]        a link to the job's Spark UI or application history, under its role
  emr-gateway roles [--cluster ID]      the runtime roles you may use
  emr-gateway usage [--from T] [--to T] [--group-by principal|role|cluster|tag:KEY] [--output table|json|csv]
      the jobs that ended in the range (default: the last 7 days), by final state, with their step-seconds
  emr-gateway queue --cluster ID        the cluster's capacity, active and queued jobs per group, and its queue in order
  emr-gateway dashboard [--port N] [--open]   the web dashboard on loopback, signing as you (Ctrl-C stops it)
  emr-gateway session --cluster ID --role ROLE_ARN [--duration SECONDS]
      interactive-session credentials (EMR GetClusterSessionCredentials) for a notebook: Livy's endpoint, the user
      name and password (shown once), their expiry, a sparkmagic configuration; decided by the same policy
  emr-gateway session list [--limit N] [--next-token T] [--all]   your sessions, newest first
  emr-gateway session show SESSION_ID   one of your sessions (without its password)
  Common: --endpoint URL --region R --profile P --output json|table
  Exit codes: 0 ok / job completed, 1 job failed, cancelled or timed out (or another error),
              2 bad usage, 3 denied (or not authenticated), 4 not found,
              5 the gateway did not answer (retried for EMR_GATEWAY_RETRY_SECONDS, default 60).

Offline (from a configuration file, no AWS call):
  emr-gateway policy check --config FILE --principal ARN [--action ACTION] (--resource ARN | --cluster ID)
                           [--role ROLE_ARN] [--context KEY=VALUE ...] [--at ISO_TIME] [--output json|table]
      May this caller do this? Prints Allowed / ExplicitlyDenied / ImplicitlyDenied and why.
      (--at sets aws:CurrentTime; a --context key given twice is multi-valued.) Exit 0 allowed, 3 denied.
  emr-gateway policy lint --config FILE [--output json|table]
      Statements that can never match, unknown actions, resources that are not clusters, ...
      Exit 1 when a finding is an error.
  emr-gateway roles --config FILE --principal ARN --cluster ID [--all] [--output json|table]
      The runtime roles this caller may use on this cluster, with the step types allowed.

Against an AWS account (read-only, the standard AWS credential chain), or the local stack's AWS port:
  emr-gateway doctor --config FILE [--cluster ID] [--submitter-role ARN|NAME ...] [--stage S] [--aws-endpoint URL]
                     [--profile P] [--gateway-role ARN ...] [--account-profile ACCOUNT=PROFILE ...] [--output json|table]
      Each cluster's runtime-role prerequisites, through EMR's and IAM's APIs, policies evaluated with the engine;
      each finding with the JSON that fixes it. Exit 0 all pass (warnings allowed), 1 a check failed.

The local stack (what \`npm start\` runs): the whole gateway on this machine, no AWS account needed:
  emr-gateway local [--config FILE] [--port 3000] [--aws-port 4566] [--data-dir .emr-gateway | --in-memory] [--faults SPEC]
      Also from EMR_GATEWAY_LOCAL_CONFIG, EMR_GATEWAY_PORT, EMR_GATEWAY_AWS_PORT, EMR_GATEWAY_DATA_DIR,
      EMR_GATEWAY_FAULTS (e.g. emr.throttle=0.1,emr.latencyMs=50,dynamodb.errors=0.05,dynamodb.throttle=0.02).
  emr-gateway trigger NAME --event FILE.json [--aws-endpoint URL]   fire one of the config's triggers locally (the event must match its pattern)

Help: emr-gateway COMMAND --help (or emr-gateway help COMMAND) for one command; emr-gateway --version.
`;

const CONNECTION = `Connection:
  --endpoint URL        the gateway API (or EMR_GATEWAY_ENDPOINT); the local stack prints it as "Gateway API"
                        (http://127.0.0.1:3000 by default; its AWS port, 4566, is not the gateway)
  --profile P           an AWS profile (or AWS_PROFILE); without one, the standard chain: AWS_ACCESS_KEY_ID and
                        AWS_SECRET_ACCESS_KEY (the local stack prints demo ones), SSO, instance roles
  --region R            the SigV4 signing region (or AWS_REGION, AWS_DEFAULT_REGION; default: the execute-api
                        URL's, else us-east-1)
  --output json|table   tables for people (default), JSON for programs`;

const EXITS = 'Exit codes: 0 ok, 1 failed (or a conflict), 2 bad usage, 3 denied or no/invalid credentials, 4 not found.';

/** Each command's own help (`emr-gateway COMMAND --help`, `emr-gateway help COMMAND`). */
export const HELP: Readonly<Record<string, string>> = {
  submit: `Usage: emr-gateway submit --cluster ID --role ROLE_ARN --name NAME STEP [flags]

Submits one EMR step through the gateway, under the runtime role ROLE_ARN (see: emr-gateway roles). The
gateway decides with its policy; a denied request is recorded as a REJECTED job (exit 3).

STEP is one of:
  -- COMMAND ARGS...                       a command (command-runner.jar), e.g. -- bash -c 'echo hi'
  --spark -- SPARK_SUBMIT_ARGS...          spark-submit with these arguments
  --hive SCRIPT [-- ARGS...]               a Hive script (s3://... or an absolute path)
  --jar JAR [--main-class C] [-- ARGS...]  a JAR step
Everything after -- belongs to the step (a --help there is the step's).

Flags:
  --cluster ID               the EMR cluster (one the gateway manages, with runtime roles enabled)
  --role ROLE_ARN            the runtime role the step runs as
  --name NAME                the step's name
  --timeout SECONDS          end the job TIMED_OUT after this long
  --priority 0-9             its place in the cluster's queue when the cluster (or your group) is at capacity:
                             higher first, default 5; fair sharing between groups comes first (emr-gateway queue)
  --action-on-failure A      one of ${ACTIONS_ON_FAILURE.join(' ')}, as the cluster allows (default CONTINUE)
  --retry N                  up to N attempts in all (1-10), each a new EMR step under the same decision; the job
                             ends with the last attempt's outcome; a cancel or --timeout ends the retries
  --retry-interval SECONDS   the pause after a failed attempt (1-3600, default 60)
  --retry-backoff X          multiply the pause by X after each attempt (1-4, default 1; at most an hour)
  --retry-on STATES          the EMR states that are retried: FAILED (default), INTERRUPTED or FAILED,INTERRUPTED
                             (a cancelled or rejected job never is). Without --retry the cluster's defaultRetry applies.
  --tag KEY=VALUE            a job tag (repeatable)
  --notify NAME              also send this configured notification (repeatable), as the policy allows
                             (emr-gateway:Notify); the configuration says at which states and where to
  --idempotency-key KEY      without one, one is generated and printed: repeat it to retry safely
  --wait                     follow the job to its end (live status); the exit code is then the job's

${CONNECTION}

Example:
  emr-gateway submit --cluster j-2AXXXXXXGAPLF --role arn:aws:iam::123456789012:role/CallerTeamRoleETL \\
      --name hello --wait -- bash -c 'echo hello'

${EXITS} With --wait: 0 completed, 1 failed, cancelled or timed out.`,

  status: `Usage: emr-gateway status JOB_ID [flags]

The job: status, EMR step and state, runtime role, cluster, caller, decision, times, failure; with a retry
policy, the attempt it is on and each attempt's step, state, times and failure (between attempts the status stays
PENDING and the next attempt's time is shown).

${CONNECTION}

${EXITS}`,

  wait: `Usage: emr-gateway wait JOB_ID [flags]

Follows the job to its end: on a terminal one live line (state, attempt, elapsed time), otherwise a line per
change on stderr (each attempt of a job with retries is one); then the job as \`status\` shows it.

${CONNECTION}

Exit codes: 0 completed, 1 failed, cancelled or timed out, 3 denied (REJECTED) or no/invalid credentials, 4 not found.`,

  rerun: `Usage: emr-gateway rerun JOB_ID [--param NAME=VALUE ...] [--idempotency-key KEY] [--wait] [flags]

A new job from the job's request (POST /jobs/{id}/rerun), for whoever may read the job: decided again by the
policy in force now, as you (the new job is yours, whoever submitted the old one). The two are linked: the new
job's rerunOf, the old one's reruns; the old one's audit trail records the rerun.
  --param NAME=VALUE         a job a schedule or trigger made from a template: render the template again with this
                             parameter overriding the job's own (each checked as an event's value is: its
                             declaration, and never script syntax into a script); repeatable
  --idempotency-key KEY      the same key answers the same rerun (one is generated and printed otherwise)
  --wait                     follow the new job to its end; the exit code is then the job's

${CONNECTION}

${EXITS} With --wait: 0 completed, 1 failed, cancelled or timed out.`,

  cancel: `Usage: emr-gateway cancel JOB_ID [--mode SEND_INTERRUPT|TERMINATE_PROCESS] [--wait] [flags]

Cancels the job's step (EMR CancelSteps), or the job before its step is submitted; between the attempts of a
job with retries, the job ends CANCELLED at once and no further attempt starts.
  --mode SEND_INTERRUPT      SIGTERM, then SIGKILL (default)
  --mode TERMINATE_PROCESS   SIGKILL
  --wait                     follow the job to its end
A job that has already finished is a conflict (exit 1).

${CONNECTION}

${EXITS}`,

  list: `Usage: emr-gateway list [flags]

Jobs, newest first: your own by default; with --status, --cluster or --caller, every matching job you may read.
  --status S          one of ${JOB_STATUSES.join(' ')}
  --cluster ID        only this cluster's jobs
  --caller ARN        only this caller's jobs (an IAM role, user or assumed-role session ARN)
  --from T, --to T    created at or after / at or before T: an ISO 8601 time with its zone
                      (2026-12-01T09:30:00Z, 2026-12-01T10:30:00+01:00) or a day (2026-12-01, UTC: --from
                      from its start, --to to its end, so --from D --to D is day D)
  --limit N           jobs per page, 1 to 100 (default 20)
  --next-token T      go on after the page that printed it
  --all               every page

${CONNECTION}

${EXITS}`,

  audit: `Usage: emr-gateway audit JOB_ID|SESSION_ID [--verify] [flags]

The job's (or interactive session's) audit events, in order. --verify checks here the order, links and hashes of
the chain, that event 0 is the DECISION and that nothing was cut or appended, and reports the gateway's check of
the MACs and of the signed digests (a rollback); exit 1 when either fails.

${CONNECTION}

${EXITS}`,

  usage: `Usage: emr-gateway usage [--from T] [--to T] [--group-by G] [--output table|json|csv] [flags]

The jobs that ended in the range that you may list (GET /usage), counted by final state, with their step-seconds
(how long their steps ran by EMR's step timelines, every attempt's), grouped:
  --group-by principal       by the job's principal (the default)
  --group-by role            by its runtime role
  --group-by cluster         by its cluster
  --group-by tag:KEY         by the value of its tag KEY ((none): the jobs without it)
  --from T, --to T           an ISO 8601 time with its zone, or a day (UTC: --from its start, --to its end);
                             default the last 7 days, at most 92 days
  --output csv               RFC 4180, a row per group and a column per final state (json: the API's answer)

${CONNECTION}

${EXITS}`,

  dashboard: `Usage: emr-gateway dashboard [--port N] [--open] [--output table|json] [flags]

The web dashboard: jobs live (their story, logs, audit chain verified in the browser, cancel and rerun), the roles
you may use and why, "may I?" decisions, queues and usage. A web server on 127.0.0.1 only serves it and passes its
calls on to the gateway signed with your AWS credentials (the standard chain, as every command); the gateway decides
everything. It prints a URL with a token: the page keeps it in its tab (not in a cookie, which would reach every
port of 127.0.0.1) and presents it on every call; requests of other origins or Host names are refused, and every
page carries a strict Content-Security-Policy. Ctrl-C stops it.
  --port N     the port (default 7780, or the next free of the ten after it; 0: any free port)
  --open       open the URL in the desktop's browser (through a file only you can read: the token is in no
               command line)
  --output json   print {"url", "port", "endpoint"} as JSON (for scripts)

${CONNECTION}

${EXITS}`,

  queue: `Usage: emr-gateway queue --cluster ID [--output table|json] [flags]

A cluster's admission (GET /queues): its capacity (clusters[].maxActiveJobs) and how much of it is used, the active
and queued jobs of each principal group (config quotas; \`default\` for callers no quota matches) with the group's own
limits, and the queued jobs in the order they are expected to start: fair between groups (the group with the fewest
active jobs first, groups taking turns), then by priority (submit --priority 0-9, higher first), then oldest first.
Job ids are shown for your own jobs only; others' are places ("-").

${CONNECTION}

${EXITS}`,

  roles: `Usage: emr-gateway roles [--cluster ID] [flags]
       emr-gateway roles --config FILE --principal ARN --cluster ID [--all] [--output json|table]

The runtime roles you may use, per cluster, with the step types allowed. A cluster whose security
configuration does not enable runtime roles takes no runtime-role step: none is offered there, and why is said.
Offline, with --config: the roles a principal may use on a cluster of that configuration file, with the
reason of each decision (--all: the roles it may not use too). No AWS call.

${CONNECTION}

${EXITS}`,

  session: `Usage: emr-gateway session --cluster ID --role ROLE_ARN [--duration SECONDS] [flags]
       emr-gateway session list [--limit N] [--next-token T] [--all] [flags]
       emr-gateway session show SESSION_ID [flags]

Interactive-session credentials for a notebook (sparkmagic, Livy), from EMR GetClusterSessionCredentials under
the runtime role ROLE_ARN, through the gateway: its policy decides elasticmapreduce:GetClusterSessionCredentials
on the cluster with the role (elasticmapreduce:ExecutionRoleArn), and the decision and the issue are audited
(emr-gateway audit SESSION_ID). Prints Livy's endpoint, the user name and password, their expiry and a sparkmagic
configuration; the password is shown only then (the gateway keeps none). A denial is recorded (exit 3).
  --cluster ID          the EMR cluster (its security configuration enables runtime roles)
  --role ROLE_ARN       the runtime role the session works as
  --duration SECONDS    the life wanted, 900 to 43200, recorded; EMR sets the expiry (a note says when it is sooner)
  --output json         for programs: the session, its credentials and the sparkmagic configuration
  list                  your sessions, newest first (--limit 1 to 100, --next-token, --all)
  show SESSION_ID       one of your sessions

${CONNECTION}

${EXITS}`,

  policy: `Usage: emr-gateway policy check --config FILE --principal ARN (--cluster ID | --resource ARN) [--action A]
                                [--role ROLE_ARN] [--context KEY=VALUE ...] [--at ISO_TIME] [--output json|table]
       emr-gateway policy lint --config FILE [--output json|table]

Offline, from a configuration file (no AWS call):
  policy check   may this caller do this? Allowed / ExplicitlyDenied / ImplicitlyDenied and why (exit 0
                 allowed, 3 denied). emr-gateway policy check --help for its flags.
  policy lint    statements that can never match, unknown actions, resources that are not clusters, shadowed
                 principals (exit 1 on an error).`,

  'policy check': `Usage: emr-gateway policy check --config FILE --principal ARN (--cluster ID | --resource ARN) [flags]

Offline: the decision of the configuration's policies on one request, and its reason.
  --config FILE        the gateway's configuration (YAML)
  --principal ARN      the caller: arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
  --cluster ID         a cluster of the configuration (or --resource ARN)
  --action A           default elasticmapreduce:AddJobFlowSteps (the bare EMR name works too)
  --role ROLE_ARN      the runtime role (elasticmapreduce:ExecutionRoleArn)
  --context KEY=VALUE  another condition key (repeatable; a key given twice is multi-valued)
  --at ISO_TIME        aws:CurrentTime
  --output json|table

Exit codes: 0 allowed, 3 denied, 2 bad usage or configuration.`,

  'policy lint': `Usage: emr-gateway policy lint --config FILE [--output json|table]

Offline: every finding of the configuration, errors and warnings: statements that can never match, unknown
actions, resources that are not clusters, shadowed principals. The other commands refuse a file with an error.

Exit codes: 0 no error, 1 an error, 2 bad usage or a configuration that does not load.`,

  doctor: `Usage: emr-gateway doctor --config FILE [--cluster ID] [flags]

Checks, for each cluster of the configuration (or --cluster ID), the prerequisites of EMR runtime roles
("Runtime roles for Amazon EMR steps") through the real APIs, read-only: EMR DescribeCluster,
ListInstanceGroups/ListInstanceFleets, DescribeSecurityConfiguration; IAM GetInstanceProfile, GetRole,
ListRolePolicies/GetRolePolicy, ListAttachedRolePolicies/GetPolicy/GetPolicyVersion; STS GetCallerIdentity.
Policies are evaluated with the gateway's IAM engine, as STS and IAM decide:
  cluster                       DescribeCluster answers, and the cluster is not terminated
  log-uri                       clusters[].logUri is the cluster's LogUri (warns where only the cluster has one)
  release                       emr-6.7.0 or later
  applications                  Spark or Hive installed
  single-primary                one primary node (runtime roles are not supported on HA clusters)
  security-configuration        EnableApplicationScopedIAMRole as the configuration's runtimeRoles says
  source-identity               PropagateSourceIdentity as the configuration's propagateSourceIdentity says
  instance-profile              the cluster's instance profile holds a role
  instance-profile-permissions  that role may sts:AssumeRole, sts:TagSession (and sts:SetSourceIdentity) on each
                                catalogue role
  trust-policy                  each catalogue role's trust policy lets that role assume it with the security
                                configuration's ExternalId (and set the source identity)
  trust-external-id             ... and not without the ExternalId (nor with another)
  submitter-catalogue           the gateway's submitter role may add steps with every catalogue role
  submitter-exactly             ... and with no role outside the catalogue
A cluster of another account (clusters[].account) is read in its account, reached by assuming its accessRole with
the externalId from these credentials (as the gateway does; run doctor as the gateway's role to test the trust
itself) or with --account-profile; its runtime-role checks are then those above, and instead of the submitter's:
  access-role-trust             the access role lets the gateway's role assume it with the ExternalId (and set
                                the source identity); refused to the gateway's role: a failure, to anyone else: a
                                warning
  access-role-external-id       ... and not without the ExternalId (nor with another)
  access-role-permissions       it may add steps and get session credentials with the catalogue's roles only (the
                                ExecutionRoleArn condition), and read and cancel steps
Each finding names the resource, what is wrong and the JSON that fixes it (a policy document to put, with the
aws command that puts it); IAM fixes are evaluated again before they are shown. A role of another account than
the credentials' cannot be read (IAM reads one account): its trust checks are warnings, "not checkable".

Flags:
  --config FILE             the gateway's configuration (YAML): clusters, propagateSourceIdentity, the catalogue
  --cluster ID              only this cluster of the configuration
  --submitter-role ARN|NAME the gateway's role that adds the steps (repeatable). Default: the deployed stack's,
                            emr-step-gateway-STAGE-REGION-submitter (its output SubmitterRoleArn); against a
                            loopback --aws-endpoint, the local stack's emr-gateway-submitter
  --stage S                 the deployed stage of that default (default ${DEFAULT_DOCTOR_STAGE}, as npm run package)
  --aws-endpoint URL        one endpoint for EMR, IAM and STS, e.g. the local stack's http://127.0.0.1:4566 (or
                            AWS_ENDPOINT_URL); default: AWS itself, in the configuration's region
  --profile P               an AWS profile (or AWS_PROFILE); otherwise the standard credential chain
  --gateway-role ARN        a role of the gateway that the access roles must trust (repeatable). Default: none in
                            AWS (the functions' roles have generated names); the local stack's emr-gateway-functions
  --account-profile ACCOUNT=PROFILE  the credentials for a cluster account (repeatable); default: its access role
  --output json|table       a table for people (default; progress on stderr), JSON for programs:
                            {version, config, account, region, clusters, submitterRoles, summary: {pass, fail, warn},
                             findings: [{check, cluster, resource, runtimeRole?, status: pass|fail|warn, problem?,
                             detail, fixes: [{summary, operation, parameters, document, command?}], fixVerified?}]}

Exit codes: 0 every check passed (warnings allowed), 1 a check failed (or no credentials), 2 bad usage or configuration.`,

  logs: `Usage: emr-gateway logs JOB_ID [--stream stdout|stderr|controller|syslog] [--stderr] [--tail N] [--attempt N] [--follow] [flags]

The step's log as EMR archives it under the cluster's LogUri (S3), read by the gateway (GET /jobs/{id}/logs) for
whoever may read the job, in AWS and on the local stack alike. Default: the last 1000 lines of stdout.
  --stream NAME   stdout (default), stderr, controller (EMR's account of the step) or syslog; --stderr: stderr
  --tail N        the last N lines (1-10000)
  --attempt N     a job with retries: the log of attempt N's step (default: the current attempt's, or between
                  attempts the last one's)
  --follow, -f    go on printing what the step writes until the job has ended (EMR uploads a running step's
                  logs every few minutes, the local EMR every second; on EMR the last upload can come a few
                  minutes after the step has ended: run logs again then for the end); a job with retries:
                  each attempt's log in turn, from the attempt it is on
  --output json   the API's answer (lines, offsets, whether more follows or lines were cut)
Exit 4 when the job or its log is not there (yet: code LogNotYetWritten).

${CONNECTION}

${EXITS}`,

  ui: `Usage: emr-gateway ui JOB_ID [--open] [flags]

A presigned link to the job's Spark UI (GET /jobs/{id}/ui), for whoever may read the job: while it runs, the
cluster's own (EMR GetOnClusterAppUIPresignedURL), once it has ended, the application history EMR keeps off the
cluster (CreatePersistentAppUI, GetPersistentAppUIPresignedURL), both under the job's runtime role. The link is
short-lived and a credential while it lasts: do not share it.
  --open   open it in the desktop's browser too

${CONNECTION}

${EXITS}`,

  trigger: `Usage: emr-gateway trigger NAME --event FILE.json [--aws-endpoint URL] [--output json|table]

Fires one of the configuration's triggers on the local stack with an EventBridge event, standing in for the
AWS service that would publish it; only with an event the trigger's pattern matches (else exit 2, naming the
first field that differs). --aws-endpoint: the local stack's AWS port (default http://127.0.0.1:4566).

${EXITS}`,

  local: `Usage: emr-gateway local [--config FILE] [--port 3000] [--aws-port 4566] [--data-dir .emr-gateway | --in-memory] [--faults SPEC]

The whole gateway on this machine (what \`npm start\` runs), no AWS account needed, until Ctrl-C. Prints the
endpoints and the lines to paste into another terminal (an alias for this CLI, demo credentials, a submit).
  --config FILE     or EMR_GATEWAY_LOCAL_CONFIG (default: the example configuration)
  --port N          the gateway API, or EMR_GATEWAY_PORT (default 3000)
  --aws-port N      the local AWS services, or EMR_GATEWAY_AWS_PORT (default 4566)
  --data-dir DIR    jobs, audit trails, step logs, buckets; or EMR_GATEWAY_DATA_DIR (default .emr-gateway)
  --in-memory       keep the jobs and audit trails in memory, the rest in a temporary directory: nothing is
                    kept after the stop (quicker; for tries and tests)
  --faults SPEC     or EMR_GATEWAY_FAULTS, e.g. emr.throttle=0.1,emr.latencyMs=50,dynamodb.errors=0.05`,
};

/** The help of a command by name ("policy check"), or of its group ("policy"). */
export function helpFor(name: string): string | undefined {
  return HELP[name];
}

/** The flags a command's help names: what a mistyped flag is compared with. */
export function documentedFlags(name: string): string[] {
  return [...new Set((HELP[name] ?? '').match(/--[a-z][a-z-]*[a-z]/g) ?? [])];
}

/** The candidate nearest to what was typed, if near enough to be a typo: 1 edit for short words, 2 from 5 characters. */
export function nearest(typed: string, candidates: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  const limit = word.replace(/^-+/, '').length >= 5 ? 2 : 1;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
