/**
 * The CloudFormation generator (scripts/cloudformation.ts), without osls: what it derives from a configuration
 * for serverless.yml (cluster ids and ARNs, the runtime-role catalogue, the schedule and trigger resources), and
 * what serverless.yml's IAM statements and step-event rule become with those values. The packaged template
 * itself is checked, slowly, in test/package/template.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_IN_ZIP, logicalId, packageParams, stepLogResources, triggerResources, wireApiStage, type CfnTemplate, type PackageParams } from '../../scripts/cloudformation';
import { PackagingError } from '../../scripts/errors';
import { parseConfig } from '../../src/config-file/load';
import type { GatewayConfig } from '../../src/config/validate';

const ROOT = join(__dirname, '..', '..');
const PRINCIPAL = 'arn:aws:iam::210987654321:role/Pipelines';

/** A configuration in eu-west-1 with two clusters, two catalogue roles, and the given schedules and triggers (YAML). */
function configWith(extra = '', region = 'eu-west-1'): GatewayConfig {
  const text = `account: "210987654321"
region: ${region}
clusters:
  - { id: j-3UNITTEST0001, name: etl, runtimeRoles: true }
  - { id: j-3UNITTEST0002, name: reporting, runtimeRoles: true }
runtimeRoles:
  - arn:${region.startsWith('cn-') ? 'aws-cn' : 'aws'}:iam::210987654321:role/EtlRuntime
  - arn:${region.startsWith('cn-') ? 'aws-cn' : 'aws'}:iam::210987654321:role/ReportingRuntime
templates:
  nightly: { clusterId: j-3UNITTEST0001, executionRoleArn: arn:aws:iam::210987654321:role/EtlRuntime, name: nightly, step: { type: command, args: [echo] } }
${extra}`;
  return parseConfig(text, '/unit/gateway.yaml').config;
}

const SCHEDULES = `schedules:
  - { name: nightly-report, schedule: "cron(30 3 * * ? *)", template: nightly, principal: "${PRINCIPAL}" }
  - { name: hourly, schedule: "rate(1 hour)", template: nightly, principal: "${PRINCIPAL}" }
`;
const TRIGGERS = `triggers:
  - name: landing.files
    eventPattern: { source: [aws.s3], detail-type: [Object Created], detail: { bucket: { name: [landing] } } }
    template: nightly
    principal: "${PRINCIPAL}"
  - { name: other, eventPattern: { source: [my.app] }, template: nightly, principal: "${PRINCIPAL}" }
`;

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('packageParams: what serverless.yml reads from params.json', () => {
  it('names each configured cluster by id and by ARN in the configuration partition, region and account, in order', () => {
    const params = packageParams(configWith(), CONFIG_IN_ZIP);
    expect(params).toMatchObject({ region: 'eu-west-1', account: '210987654321', partition: 'aws', configFile: 'config/gateway.json' });
    expect(params.clusterIds).toEqual(['j-3UNITTEST0001', 'j-3UNITTEST0002']);
    expect(params.clusterArns).toEqual([
      'arn:aws:elasticmapreduce:eu-west-1:210987654321:cluster/j-3UNITTEST0001',
      'arn:aws:elasticmapreduce:eu-west-1:210987654321:cluster/j-3UNITTEST0002',
    ]);
    const china = packageParams(configWith('', 'cn-north-1'), CONFIG_IN_ZIP);
    expect(china.partition).toBe('aws-cn');
    expect(china.clusterArns[0]).toBe('arn:aws-cn:elasticmapreduce:cn-north-1:210987654321:cluster/j-3UNITTEST0001');
  });

  it('passes exactly the runtime-role catalogue, as a copy', () => {
    const config = configWith();
    const params = packageParams(config, CONFIG_IN_ZIP);
    expect(params.runtimeRoles).toEqual(['arn:aws:iam::210987654321:role/EtlRuntime', 'arn:aws:iam::210987654321:role/ReportingRuntime']);
    params.runtimeRoles.push('arn:aws:iam::210987654321:role/Other');
    expect(config.runtimeRoles).toHaveLength(2);
  });

  it('carries the schedule and trigger resources, and none without schedules or triggers', () => {
    const config = configWith(SCHEDULES + TRIGGERS);
    expect(packageParams(config, CONFIG_IN_ZIP).triggerResources).toEqual({ Resources: triggerResources(config) });
    expect(packageParams(configWith(), CONFIG_IN_ZIP).triggerResources).toEqual({ Resources: {} });
  });

  it('refuses an empty catalogue and "${" in a trigger (osls variable syntax), naming the file and every problem', () => {
    const config = configWith(`triggers:
  - { name: t, eventPattern: { source: ["\${env:X}"] }, template: nightly, principal: "${PRINCIPAL}" }
`);
    expect(() => packageParams({ ...configWith(), runtimeRoles: [] }, CONFIG_IN_ZIP)).toThrow(PackagingError);
    expect(() => packageParams({ ...config, runtimeRoles: [] }, CONFIG_IN_ZIP)).toThrow(
      '/unit/gateway.yaml: runtimeRoles: is empty; the gateway could pass no runtime role to EMR; schedules/triggers: "${" cannot be deployed (osls variable syntax)',
    );
    expect(() => packageParams(config, CONFIG_IN_ZIP)).toThrow(/^\/unit\/gateway\.yaml: schedules\/triggers: "\$\{" cannot be deployed/);
  });
});

/** serverless.yml as osls would read it with these params: `${self:custom.params.NAME}` replaced, nothing else resolved. */
function serverlessWith(params: PackageParams): { resources: { Resources: CfnTemplate['Resources'] } } {
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const name = /^\$\{self:custom\.params\.(\w+)\}$/.exec(value)?.[1];
      return name ? params[name as keyof PackageParams] : value;
    }
    if (Array.isArray(value)) return value.map(substitute);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
    return value;
  };
  const yml = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { maxAliasCount: 1000 }) as { resources: [{ Resources: CfnTemplate['Resources'] }, unknown] };
  return { resources: substitute(yml.resources[0]) as { Resources: CfnTemplate['Resources'] } };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function identityStatements(resources: CfnTemplate['Resources']): { owner: string; statement: Statement }[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .flatMap(([owner, r]) =>
      ((r.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement.map((statement) => ({ owner, statement }))),
    );
}

describe('serverless.yml with the generated params', () => {
  const params = packageParams(configWith(SCHEDULES + TRIGGERS), CONFIG_IN_ZIP);
  const { Resources } = serverlessWith(params).resources;
  const statements = identityStatements(Resources);

  it('allows AddJobFlowSteps only on the configured clusters and only with ExecutionRoleArn in the catalogue', () => {
    const adds = statements.filter((s) => asArray(s.statement.Action).includes('elasticmapreduce:AddJobFlowSteps'));
    expect(adds.map((s) => s.owner).sort()).toEqual(['EmrGatewaySubmitter', 'SubmitStepRole']);
    for (const { statement } of adds) {
      expect(statement.Effect).toBe('Allow');
      expect(asArray(statement.Action)).toEqual(['elasticmapreduce:AddJobFlowSteps']);
      expect(statement.Resource).toEqual(params.clusterArns);
      expect(statement.Condition).toEqual({ StringEquals: { 'elasticmapreduce:ExecutionRoleArn': params.runtimeRoles } });
    }
  });

  it("lets only the API ask for app-UI links (GET /jobs/{id}/ui), with AddJobFlowSteps' ExecutionRoleArn values (IfExists where EMR sends no such key); CreatePersistentAppUI, which takes no role, on the clusters alone", () => {
    const add = statements.find((s) => asArray(s.statement.Action).includes('elasticmapreduce:AddJobFlowSteps'))!.statement;
    const links = statements.filter((s) => asArray(s.statement.Action).some((a) => /AppUI/.test(a)));
    const values = (add.Condition as { StringEquals: unknown }).StringEquals;
    expect(links.map((s) => [s.owner, asArray(s.statement.Action).sort(), s.statement.Resource, s.statement.Condition])).toEqual([
      ['ApiRole', ['elasticmapreduce:GetPersistentAppUIPresignedURL'], add.Resource, add.Condition],
      ['ApiRole', ['elasticmapreduce:GetOnClusterAppUIPresignedURL'], add.Resource, { StringEqualsIfExists: values }],
      ['ApiRole', ['elasticmapreduce:CreatePersistentAppUI'], params.clusterArns, undefined],
    ]);
  });

  it('scopes every EMR action of every function to the configured clusters', () => {
    const emr = statements.filter((s) => asArray(s.statement.Action).some((a) => a.startsWith('elasticmapreduce:')));
    expect(new Set(emr.map((s) => s.owner))).toEqual(new Set(['EmrGatewaySubmitter', 'EmrGatewaySessions', 'ApiRole', 'SubmitStepRole', 'WatchStepRole', 'PollStepRole', 'FailJobRole', 'EmrStepEventRole', 'ReconcileRole']));
    for (const { statement } of emr) expect(statement.Resource).toEqual(params.clusterArns);
  });

  it('sends the EMR step events of the configured clusters, and only those, to emrStepEvent', () => {
    const rule = Resources.EmrStepStatusRule?.Properties as { EventPattern: unknown; Targets: { Arn: unknown }[] };
    expect(rule.EventPattern).toEqual({ source: ['aws.emr'], 'detail-type': ['EMR Step Status Change'], detail: { clusterId: ['j-3UNITTEST0001', 'j-3UNITTEST0002'] } });
    expect(rule.Targets.map((t) => t.Arn)).toEqual([getAtt('EmrStepEventLambdaFunction')]);
  });
});

describe("stepLogResources: the API role's read of the step logs (GET /jobs/{id}/logs)", () => {
  const withLogs = (first: string, second: string) =>
    parseConfig(
      `account: "210987654321"
region: eu-west-1
clusters:
  - { id: j-3UNITTEST0001, name: etl, runtimeRoles: true${first} }
  - { id: j-3UNITTEST0002, name: reporting, runtimeRoles: true${second} }
  - { id: j-3UNITTEST0003, name: nologs, runtimeRoles: true }
runtimeRoles: [arn:aws:iam::210987654321:role/EtlRuntime]
`,
      '/unit/gateway.yaml',
    ).config;

  it("grants GetObject only under each configured cluster's steps/ in its LogUri, and ListBucket per bucket only for those prefixes, to the API role alone", () => {
    const config = withLogs(', logUri: "s3://aws-logs-210987654321-eu-west-1/elasticmapreduce/"', ', logUri: "s3n://team-logs/emr"');
    const resources = stepLogResources(config);
    expect(packageParams(config, CONFIG_IN_ZIP).stepLogResources).toEqual({ Resources: resources });
    expect(Object.keys(resources)).toEqual(['ApiStepLogsPolicy']);
    const policy = resources.ApiStepLogsPolicy!;
    expect(policy.Type).toBe('AWS::IAM::RolePolicy');
    expect(policy.Properties).toMatchObject({ RoleName: { Ref: 'ApiRole' }, PolicyName: 'read-step-logs' });
    expect((policy.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement).toEqual([
      {
        Sid: 'ReadStepLogsOfConfiguredClusters',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: ['arn:aws:s3:::aws-logs-210987654321-eu-west-1/elasticmapreduce/j-3UNITTEST0001/steps/*', 'arn:aws:s3:::team-logs/emr/j-3UNITTEST0002/steps/*'],
      },
      { Sid: 'ListStepLogs1', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::aws-logs-210987654321-eu-west-1', Condition: { StringLike: { 's3:prefix': ['elasticmapreduce/j-3UNITTEST0001/steps/*'] } } },
      { Sid: 'ListStepLogs2', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::team-logs', Condition: { StringLike: { 's3:prefix': ['emr/j-3UNITTEST0002/steps/*'] } } },
    ]);
  });

  it('one bucket shared by two clusters: one ListBucket with both prefixes; no LogUri at all: no policy', () => {
    const shared = stepLogResources(withLogs(', logUri: "s3://logs-a/x/"', ', logUri: "s3://logs-a/y/"'));
    const statements = (shared.ApiStepLogsPolicy!.Properties as { PolicyDocument: { Statement: { Action: string; Resource: unknown; Condition?: unknown }[] } }).PolicyDocument.Statement;
    expect(statements.map((s) => [s.Action, s.Resource, s.Condition])).toEqual([
      ['s3:GetObject', ['arn:aws:s3:::logs-a/x/j-3UNITTEST0001/steps/*', 'arn:aws:s3:::logs-a/y/j-3UNITTEST0002/steps/*'], undefined],
      ['s3:ListBucket', 'arn:aws:s3:::logs-a', { StringLike: { 's3:prefix': ['x/j-3UNITTEST0001/steps/*', 'y/j-3UNITTEST0002/steps/*'] } }],
    ]);
    expect(stepLogResources(withLogs('', ''))).toEqual({});
    expect(packageParams(withLogs('', ''), CONFIG_IN_ZIP).stepLogResources).toEqual({ Resources: {} });
  });
});

describe('triggerResources: the schedules and triggers of the configuration', () => {
  const config = configWith(SCHEDULES + TRIGGERS);
  const resources = triggerResources(config);

  it('makes one Scheduler schedule per schedule, in UTC, invoking `scheduled` with the schedule name and time', () => {
    const schedules = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules.map(([id]) => id)).toEqual([logicalId('Schedule', 'nightly-report'), logicalId('Schedule', 'hourly')]);
    expect(schedules[0]![1].Properties).toEqual({
      Description: 'emr-step-gateway schedule nightly-report (template nightly)',
      ScheduleExpression: 'cron(30 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: getAtt('ScheduledLambdaFunction'),
        RoleArn: getAtt('SchedulerRole'),
        Input: '{"schedule":"nightly-report","scheduledTime":"<aws.scheduler.scheduled-time>"}',
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    expect((schedules[1]![1].Properties as { ScheduleExpression: string }).ScheduleExpression).toBe('rate(1 hour)');
  });

  it('makes one rule per trigger with its pattern, sending {trigger, event} to `event`, and a permission for that rule only', () => {
    const rules = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');
    expect(rules.map(([id]) => id)).toEqual([logicalId('Trigger', 'landing.files'), logicalId('Trigger', 'other')]);
    for (const [id, rule] of rules) {
      const entry = config.triggers.find((t) => logicalId('Trigger', t.name) === id)!;
      const p = rule.Properties as { State: string; EventPattern: unknown; Targets: { Id: string; Arn: unknown; InputTransformer: { InputTemplate: string } }[] };
      expect(p.State).toBe('ENABLED');
      expect(p.EventPattern).toEqual(entry.eventPattern);
      expect(p.Targets).toHaveLength(1);
      expect(p.Targets[0]!.Arn).toEqual(getAtt('EventLambdaFunction'));
      // EventBridge puts the matched event where <aws.events.event> is.
      const event = { id: 'e-1', source: 'aws.s3', detail: { object: { key: 'a/b.csv' } } };
      expect(JSON.parse(p.Targets[0]!.InputTransformer.InputTemplate.replace('<aws.events.event>', JSON.stringify(event)))).toEqual({ trigger: entry.name, event });
      expect(resources[`${id}Permission`]).toEqual({
        Type: 'AWS::Lambda::Permission',
        Properties: { Action: 'lambda:InvokeFunction', FunctionName: getAtt('EventLambdaFunction'), Principal: 'events.amazonaws.com', SourceArn: getAtt(id) },
      });
    }
    expect(Object.keys(resources)).toHaveLength(2 + 2 * 2);
  });
});

describe('logicalId', () => {
  it('is the name in Pascal case plus the first 8 hex of its SHA-256: stable, and different for names that only differ in punctuation', () => {
    const hash = createHash('sha256').update('landing.files').digest('hex').slice(0, 8);
    expect(logicalId('Trigger', 'landing.files')).toBe(`TriggerLandingFiles${hash}`);
    expect(logicalId('Trigger', 'landing.files')).toBe(logicalId('Trigger', 'landing.files'));
    expect(logicalId('Trigger', 'a-b')).not.toBe(logicalId('Trigger', 'a_b'));
    expect(logicalId('Schedule', 'x.y_z-1')).toMatch(/^ScheduleXYZ1[0-9a-f]{8}$/);
  });
});

describe('wireApiStage', () => {
  const stage = { Type: 'AWS::ApiGateway::Stage', Properties: { StageName: 'dev', DeploymentId: { Ref: 'ApiGatewayDeployment' } } };

  it("points the stage at osls's deployment and takes the stage name off the deployment", () => {
    const template: CfnTemplate = {
      Resources: { ApiGatewayDeployment1700000000: { Type: 'AWS::ApiGateway::Deployment', Properties: { StageName: 'dev', RestApiId: { Ref: 'Api' } } }, ApiGatewayStage: structuredClone(stage) },
    };
    wireApiStage(template);
    expect(template.Resources.ApiGatewayStage?.Properties).toEqual({ StageName: 'dev', DeploymentId: { Ref: 'ApiGatewayDeployment1700000000' } });
    expect(template.Resources.ApiGatewayDeployment1700000000?.Properties).toEqual({ RestApiId: { Ref: 'Api' } });
  });

  it('refuses a deployment for another stage', () => {
    const template: CfnTemplate = { Resources: { D: { Type: 'AWS::ApiGateway::Deployment', Properties: { StageName: 'prod' } }, ApiGatewayStage: structuredClone(stage) } };
    expect(() => wireApiStage(template)).toThrow(PackagingError);
    expect(() => wireApiStage(template)).toThrow("the deployment's stage prod is not ApiGatewayStage's dev");
  });
});

describe('notifications', () => {
  const notifications = (url: string) => `notifications:
  - { name: hook, webhook: { url: "${url}", secret: { ssmParameter: /emr/hook } } }
  - { name: topic, sns: { topicArn: "arn:aws:sns:eu-west-1:210987654321:jobs" } }
`;

  it('packaging refuses a plain-http webhook (loopback is for the local stack)', () => {
    expect(() => packageParams(configWith(notifications('http://127.0.0.1:9000/hook')), CONFIG_IN_ZIP)).toThrow(/notifications\[0\]\.webhook\.url: must be https:\/\/ to be deployed/);
    expect(() => packageParams(configWith(notifications('https://hooks.example.com/hook')), CONFIG_IN_ZIP)).not.toThrow();
  });

  it('the notifier may publish to exactly the topics and read exactly the parameters configured; nothing without notifications', () => {
    const { notificationResources } = packageParams(configWith(notifications('https://hooks.example.com/hook')), CONFIG_IN_ZIP);
    const statements = (notificationResources.Resources.NotifyTargetsPolicy?.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement;
    expect(statements).toEqual([
      { Sid: 'PublishToConfiguredTopics', Effect: 'Allow', Action: 'sns:Publish', Resource: ['arn:aws:sns:eu-west-1:210987654321:jobs'] },
      { Sid: 'ReadWebhookParameters', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: ['arn:aws:ssm:eu-west-1:210987654321:parameter/emr/hook'] },
    ]);
    expect(packageParams(configWith(), CONFIG_IN_ZIP).notificationResources).toEqual({ Resources: {} });
  });
});
