/**
 * The configuration the workflow tests run with (integration, through startGateway, and unit, with the
 * in-memory fakes), its principals and clusters, a valid POST /jobs body and the simulated clock. No AWS SDK
 * and no dynalite here, so unit tests can import it and stay fast.
 */
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config-file/load';
import type { LoadedConfig } from '../../src/config/validate';

export const ACCOUNT = '123456789012';
export const CLUSTER = 'j-2AXXXXXXGAPLF';
export const PLAIN_CLUSTER = 'j-3NOSOURCEID';
export const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`;
/** A session of DataTeamA whose name the caller of AssumeRole chose: a claim, not an identity. */
export const SPOOFED = `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/chosen-by-caller`;
export const CAROL = `arn:aws:sts::${ACCOUNT}:assumed-role/Contractors/carol`;
export const AUDITOR = `arn:aws:sts::${ACCOUNT}:assumed-role/Auditors/dora`;
export const NOREADS = `arn:aws:sts::${ACCOUNT}:assumed-role/NoReads/nick`;
export const SUBMITTER_ROLE = `arn:aws:iam::${ACCOUNT}:role/EmrGatewaySubmitter`;
export const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/**
 * The YAML text: DataTeamA may submit with CallerTeamRole* (and cancel), Auditors read all, Contractors nothing,
 * NoReads team-a minus DescribeStep. DataTeamA's session names are verified (alice is a person, as in the example).
 */
export const GATEWAY_CONFIG_YAML = `
account: "${ACCOUNT}"
region: us-east-1
clusters:
  - { id: ${CLUSTER}, name: analytics, runtimeRoles: true, propagateSourceIdentity: true }
  - { id: ${PLAIN_CLUSTER}, name: plain, runtimeRoles: true }
runtimeRoles: ["${role('CallerTeamRoleETL')}", "${role('Caller')}"]
principals:
  - { match: "${role('DataTeamA')}", policies: [team-a], sessionNames: verified }
  - { match: "${role('Contractors')}", policies: [] }
  - { match: "${role('Auditors')}", policies: [read-all] }
  - { match: "${role('NoReads')}", policies: [team-a, no-reads] }
templates:
  nightly:
    clusterId: ${CLUSTER}
    executionRoleArn: "${role('CallerTeamRoleETL')}"
    name: "nightly \${date}"
    step: { type: command, args: [bash, -c, "echo run for \${date} in \${region}"] }
  landing:
    clusterId: ${CLUSTER}
    executionRoleArn: "${role('CallerTeamRoleETL')}"
    name: "ingest \${eventId}"
    step: { type: spark, args: ["s3://code/ingest.py", "--input", "\${key}"] }
schedules:
  - { name: nightly, schedule: "cron(0 2 * * ? *)", template: nightly, params: { region: eu }, principal: "${role('DataTeamA')}" }
triggers:
  - name: landing
    eventPattern: { source: [aws.s3], detail-type: [Object Created] }
    template: landing
    params: { key: "$.detail.object.key" }
    principal: "${role('DataTeamA')}"
policies:
  read-all:
    Version: "2012-10-17"
    Statement:
      - { Effect: Allow, Action: [elasticmapreduce:DescribeStep, elasticmapreduce:ListSteps], Resource: "arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/*" }
  no-reads:
    Version: "2012-10-17"
    Statement:
      - { Effect: Deny, Action: [elasticmapreduce:DescribeStep], Resource: "*" }
  team-a:
    Version: "2012-10-17"
    Statement:
      - Effect: Allow
        Action: [elasticmapreduce:AddJobFlowSteps, elasticmapreduce:CancelSteps]
        Resource: "arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/*"
        Condition: { StringLike: { elasticmapreduce:ExecutionRoleArn: "${role('CallerTeamRole*')}" } }
`;

/** The same configuration with DataTeamA's rule saying nothing about session names: they are caller-chosen. */
export const UNVERIFIED_CONFIG_YAML = GATEWAY_CONFIG_YAML.replace(', sessionNames: verified', '');

/** A caller whose reads depend on the job's runtime role (SCOPED_CONFIG_YAML). */
export const SCOPED = `arn:aws:sts::${ACCOUNT}:assumed-role/Scoped/sam`;
/** A caller who may submit as any catalogue role and read nothing but their own jobs (SCOPED_CONFIG_YAML). */
export const PEER = `arn:aws:sts::${ACCOUNT}:assumed-role/Peers/pat`;

/**
 * The shared configuration plus two principals for role-scoped reads. Scoped may submit as any role and read
 * every job on every cluster, except that a Deny tied to the runtime role `Caller` takes DescribeStep away on
 * the analytics cluster (such a job cannot be read, its own or not) and ListSteps on the plain one (readable,
 * not listed). Peers may submit as any role and has no read permission: only their own jobs.
 */
export const SCOPED_CONFIG_YAML = ((): string => {
  const doc = parse(GATEWAY_CONFIG_YAML) as { principals: unknown[]; policies: Record<string, unknown> };
  const clusters = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster`;
  doc.principals.push({ match: role('Scoped'), policies: ['submit-any', 'read-all', 'scoped-reads'] }, { match: role('Peers'), policies: ['submit-any'] });
  doc.policies['submit-any'] = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowSteps', Resource: `${clusters}/*` }] };
  doc.policies['scoped-reads'] = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'NoReadsAsCaller', Effect: 'Deny', Action: 'elasticmapreduce:DescribeStep', Resource: `${clusters}/${CLUSTER}`, Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': role('Caller') } } },
      { Sid: 'NoListsAsCaller', Effect: 'Deny', Action: 'elasticmapreduce:ListSteps', Resource: `${clusters}/${PLAIN_CLUSTER}`, Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': role('Caller') } } },
    ],
  };
  return stringify(doc);
})();

/** The config and its compiled policy engine, as the gateway loads them. */
export function loadTestConfig(text: string = GATEWAY_CONFIG_YAML): LoadedConfig {
  return parseConfig(text, '/test/gateway.yaml');
}

/** Simulated time: starts at a fixed instant, moves only when told (by each Wait of the state machine). */
export class SimClock {
  private t = Date.parse('2026-11-28T12:00:00Z');
  now = (): Date => new Date(this.t);
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

export const submitBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  clusterId: CLUSTER,
  executionRoleArn: role('CallerTeamRoleETL'),
  name: 'nightly etl',
  step: { type: 'command', args: ['bash', '-c', 'echo hello'] },
  ...overrides,
});
