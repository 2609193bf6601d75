/** Exit codes (DESIGN.md) and usage errors shared by every command. */
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
                     [--tag KEY=VALUE ...] [--idempotency-key KEY] [--wait]
      STEP is one of:  -- COMMAND ARGS...             a command (command-runner.jar), e.g. -- bash -c 'echo hi'
                       --spark -- SPARK_SUBMIT_ARGS...  spark-submit with these arguments
                       --hive SCRIPT [-- ARGS...]        a Hive script (s3://... or an absolute path)
                       --jar JAR [--main-class C] [-- ARGS...]
      Without --idempotency-key one is generated and printed: repeat it to retry safely.
  emr-gateway status JOB_ID             the job: status, EMR step and state, role, caller, times, failure
  emr-gateway wait JOB_ID               follow the job to its end, with live progress
  emr-gateway cancel JOB_ID [--mode SEND_INTERRUPT|TERMINATE_PROCESS] [--wait]
  emr-gateway list [--status S] [--cluster ID] [--caller ARN] [--from T] [--to T] [--limit N] [--next-token T] [--all]
  emr-gateway audit JOB_ID [--verify]   the job's audit events; --verify checks the hash chain here
  emr-gateway roles [--cluster ID]      the runtime roles you may use
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

The local stack (what \`npm start\` runs): the whole gateway on this machine, no AWS account needed:
  emr-gateway local [--config FILE] [--port 3000] [--aws-port 4566] [--data-dir .emr-gateway] [--faults SPEC]
      Also from EMR_GATEWAY_LOCAL_CONFIG, EMR_GATEWAY_PORT, EMR_GATEWAY_AWS_PORT, EMR_GATEWAY_DATA_DIR,
      EMR_GATEWAY_FAULTS (e.g. emr.throttle=0.1,emr.latencyMs=50,dynamodb.errors=0.05,dynamodb.throttle=0.02).
  emr-gateway logs JOB_ID [--stderr] [--aws-endpoint URL]   a job's step output, from the local EMR
  emr-gateway trigger NAME --event FILE.json [--aws-endpoint URL]   fire one of the config's triggers locally (the event must match its pattern)
`;
