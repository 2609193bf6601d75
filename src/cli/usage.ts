/** Exit codes (DESIGN.md) and usage errors shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, denied: 3, notFound: 4 } as const;

/** A mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `emr-gateway: submit and follow Amazon EMR steps under IAM runtime roles, through the gateway.

Offline (from a configuration file, no AWS call):
  emr-gateway policy check --config FILE --principal ARN [--action ACTION] (--resource ARN | --cluster ID)
                           [--role ROLE_ARN] [--context KEY=VALUE ...] [--at ISO_TIME] [--output json|table]
      May this caller do this? (--at sets aws:CurrentTime; a --context key given twice is multi-valued.) Prints Allowed / ExplicitlyDenied / ImplicitlyDenied and why.
      Exit 0 allowed, 3 denied, 2 bad usage or configuration.
  emr-gateway policy lint --config FILE [--output json|table]
      Statements that can never match, unknown actions, resources that are not clusters, ...
      Exit 1 when a finding is an error.
  emr-gateway roles --config FILE --principal ARN --cluster ID [--all] [--output json|table]
      The runtime roles this caller may use on this cluster, with the step types allowed.

Not yet available in this version: local, submit, status, wait, cancel, list, audit (see README.md).
`;

/** What `npm start` prints until the local stack lands: said plainly, with what works today. */
export const LOCAL_NOT_YET = `emr-gateway local: the local stack (DynamoDB, EMR, Step Functions, STS and the SigV4 API
on loopback) is not built yet in this version, so \`npm start\` cannot start it.

What works today is the offline policy tooling, against config/example.yaml:
  npx emr-gateway policy check --config config/example.yaml \\
      --principal arn:aws:sts::123456789012:assumed-role/DataTeamA/alice \\
      --cluster j-2AXXXXXXGAPLF --role arn:aws:iam::123456789012:role/CallerTeamRoleETL
  npx emr-gateway roles --config config/example.yaml \\
      --principal arn:aws:sts::123456789012:assumed-role/Analysts/bob --cluster j-2AXXXXXXGAPLF
  npx emr-gateway policy lint --config config/example.yaml
`;
