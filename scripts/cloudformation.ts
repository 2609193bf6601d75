/**
 * What serverless.yml cannot compute itself, as pure functions: from the validated configuration, the values
 * its IAM statements and EMR step-event rule name (cluster ids and ARNs, the runtime-role catalogue) and the
 * resources of the config's schedules and triggers, whose number varies; and the one fix-up osls's compiled
 * template needs (wireApiStage). No file, process or AWS access here: scripts/package.ts does the packaging.
 */
import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../src/config/validate';
import { assumeAccessRoleStatements, stepLogPlaces, stepLogReadStatements } from '../src/authz/runtime-role-setup';
import { configuredClusterArn } from '../src/identifiers';
import { PackagingError } from './errors';

/** What serverless.yml reads from params.json (`${self:custom.params.*}`). */
export interface PackageParams {
  region: string;
  account: string;
  partition: string;
  /** The configuration file's path inside each zip (under /var/task). */
  configFile: string;
  clusterIds: string[];
  clusterArns: string[];
  runtimeRoles: string[];
  /** CloudFormation resources of the config's schedules and triggers, merged into the template. */
  triggerResources: { Resources: Record<string, CfnResource> };
  /** The API role's read of the configured clusters' step logs (GET /jobs/{id}/logs): none without a LogUri. */
  stepLogResources: { Resources: Record<string, CfnResource> };
  /** The functions' permission to assume the access roles of clusters in other accounts (none without such clusters). */
  accessRoleResources: { Resources: Record<string, CfnResource> };
  /** The notifier's grants on the configured topics and secrets (none without notifications). */
  notificationResources: { Resources: Record<string, CfnResource> };
}

/** The roles of the functions that call EMR, by what they need of an access role: the first two set the caller as SourceIdentity. */
export const SOURCE_IDENTITY_ROLES = ['ApiRole', 'SubmitStepRole'] as const;
export const READING_ROLES = ['PollStepRole', 'WatchStepRole', 'FailJobRole', 'EmrStepEventRole', 'ReconcileRole'] as const;

/**
 * Exactly the configured access roles, each with its ExternalId condition (runtime-role-setup.ts
 * assumeAccessRoleStatements), for the functions that call EMR; sts:SetSourceIdentity only for those that set one.
 */
export function accessRoleResources(config: Pick<GatewayConfig, 'clusters'>): Record<string, CfnResource> {
  const policy = (name: string, roles: readonly string[], setsSourceIdentity: boolean): CfnResource => ({
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: name,
      Roles: roles.map((role) => ({ Ref: role })),
      PolicyDocument: { Version: '2012-10-17', Statement: assumeAccessRoleStatements(config.clusters, setsSourceIdentity) },
    },
  });
  if (!config.clusters.some((c) => c.accessRole)) return {};
  return {
    ClusterAccessRolesWithSourceIdentity: policy('assume-cluster-access-roles-with-source-identity', SOURCE_IDENTITY_ROLES, true),
    ClusterAccessRoles: policy('assume-cluster-access-roles', READING_ROLES, false),
  };
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Where the functions find their configuration: the validated configuration as JSON (policies inlined, no
 * local demo keys), so the deployed bundles need no YAML parser.
 */
export const CONFIG_IN_ZIP = 'config/gateway.json';

/** A CloudFormation logical id for a config entry: its name's letters and digits, plus a hash of the exact name (so `a-b` and `a_b` differ). */
export function logicalId(prefix: string, name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const pascal = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  return `${prefix}${pascal}${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/**
 * One EventBridge Scheduler schedule per `schedules` entry, invoking `scheduled` with {schedule, scheduledTime}
 * (the handler's input); one EventBridge rule per `triggers` entry with the entry's pattern, invoking `event` with
 * {trigger, event} (the whole matched event, `<aws.events.event>`), and the permission for that rule only.
 */
export function triggerResources(config: Pick<GatewayConfig, 'schedules' | 'triggers'>): Record<string, CfnResource> {
  const resources: Record<string, CfnResource> = {};
  for (const s of config.schedules) {
    resources[logicalId('Schedule', s.name)] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: `emr-step-gateway schedule ${s.name} (template ${s.template})`,
        ScheduleExpression: s.schedule,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': ['ScheduledLambdaFunction', 'Arn'] },
          RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
          Input: JSON.stringify({ schedule: s.name, scheduledTime: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        },
      },
    };
  }
  for (const t of config.triggers) {
    const rule = logicalId('Trigger', t.name);
    resources[rule] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `emr-step-gateway trigger ${t.name} (template ${t.template})`,
        State: 'ENABLED',
        EventPattern: t.eventPattern,
        Targets: [
          {
            Id: 'event',
            Arn: { 'Fn::GetAtt': ['EventLambdaFunction', 'Arn'] },
            InputTransformer: { InputTemplate: `{"trigger":${JSON.stringify(t.name)},"event":<aws.events.event>}` },
          },
        ],
      },
    };
    resources[`${rule}Permission`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['EventLambdaFunction', 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
      },
    };
  }
  return resources;
}

/**
 * The API role's read of the step logs, as an inline policy of that role (AWS::IAM::RolePolicy: there is no policy
 * where no cluster has a LogUri, and an inline policy of a role in serverless.yml cannot be left out): the clusters of
 * the gateway's account only, as another account's are read through its access role (runtime-role-setup.ts
 * stepLogReadStatements, accessRolePolicy).
 */
export function stepLogResources(config: GatewayConfig): Record<string, CfnResource> {
  const places = stepLogPlaces(config.clusters.filter((c) => !c.accessRole));
  if (!places.length) return {};
  return {
    ApiStepLogsPolicy: {
      Type: 'AWS::IAM::RolePolicy',
      Properties: {
        RoleName: { Ref: 'ApiRole' },
        PolicyName: 'read-step-logs',
        PolicyDocument: { Version: '2012-10-17', Statement: stepLogReadStatements(config.partition, places) },
      },
    },
  };
}

/**
 * The notifier's inline policy: sns:Publish on exactly the configured topics, secretsmanager:GetSecretValue and
 * ssm:GetParameter on exactly the webhooks' secrets. (A secret or parameter encrypted with a customer-managed KMS key
 * also needs kms:Decrypt for NotifyRole in that key's policy; the AWS-managed keys need nothing.)
 */
export function notificationResources(config: Pick<GatewayConfig, 'notifications' | 'partition' | 'region' | 'account'>): Record<string, CfnResource> {
  const topics = [...new Set(config.notifications.flatMap((n) => (n.sns ? [n.sns.topicArn] : [])))];
  const secrets = [...new Set(config.notifications.flatMap((n) => (n.webhook && 'secretsManager' in n.webhook.secret ? [n.webhook.secret.secretsManager] : [])))];
  const parameters = [...new Set(config.notifications.flatMap((n) => (n.webhook && 'ssmParameter' in n.webhook.secret ? [n.webhook.secret.ssmParameter] : [])))];
  const statements = [
    ...(topics.length ? [{ Sid: 'PublishToConfiguredTopics', Effect: 'Allow', Action: 'sns:Publish', Resource: topics }] : []),
    ...(secrets.length ? [{ Sid: 'ReadWebhookSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secrets }] : []),
    ...(parameters.length ? [{ Sid: 'ReadWebhookParameters', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameters.map((name) => `arn:${config.partition}:ssm:${config.region}:${config.account}:parameter${name}`) }] : []),
  ];
  if (!statements.length) return {};
  return { NotifyTargetsPolicy: { Type: 'AWS::IAM::RolePolicy', Properties: { RoleName: { Ref: 'NotifyRole' }, PolicyName: 'notification-targets', PolicyDocument: { Version: '2012-10-17', Statement: statements } } } };
}

export function packageParams(config: GatewayConfig, configFileInZip: string): PackageParams {
  const problems: string[] = [];
  // The submitting roles' policies list the catalogue: with none, no step could ever be submitted.
  if (config.runtimeRoles.length === 0) problems.push('runtimeRoles: is empty; the gateway could pass no runtime role to EMR');
  const resources = triggerResources(config);
  // osls would read ${...} in params.json as its own variables (e.g. in an event pattern).
  if (JSON.stringify(resources).includes('${')) problems.push('schedules/triggers: "${" cannot be deployed (osls variable syntax)');
  // A plain-http webhook is for the local stack (loopback only): in AWS every webhook is https.
  config.notifications.forEach((n, i) => {
    if (n.webhook && !n.webhook.url.startsWith('https://')) problems.push(`notifications[${i}].webhook.url: must be https:// to be deployed (http:// is for the local stack)`);
  });
  if (problems.length) throw new PackagingError(`${config.file}: ${problems.join('; ')}`);
  return {
    region: config.region,
    account: config.account,
    partition: config.partition,
    configFile: configFileInZip,
    clusterIds: config.clusters.map((c) => c.id),
    // In each cluster's own account (for a cluster of another account the grant is that account's: its access role).
    clusterArns: config.clusters.map((c) => configuredClusterArn(config, c.id)),
    runtimeRoles: [...config.runtimeRoles],
    triggerResources: { Resources: resources },
    stepLogResources: { Resources: stepLogResources(config) },
    accessRoleResources: { Resources: accessRoleResources(config) },
    notificationResources: { Resources: notificationResources(config) },
  };
}

/**
 * osls compiles one AWS::ApiGateway::Deployment (a new logical id at each packaging, so that each deploy
 * redeploys the API) that would create the stage itself, with none of serverless.yml's stage settings
 * (throttling, access logs): osls applies those through SDK calls at deploy time, outside the template. So
 * serverless.yml declares the stage (ApiGatewayStage, DeploymentId `Ref: ApiGatewayDeployment`), and here its
 * DeploymentId gets the real logical id and the deployment loses its StageName. Throws if the shape is not that.
 */
export function wireApiStage(template: CfnTemplate): void {
  const deployments = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGateway::Deployment');
  const stage = template.Resources.ApiGatewayStage;
  if (deployments.length !== 1 || !deployments[0]) throw new PackagingError(`expected one AWS::ApiGateway::Deployment, found ${deployments.length}`);
  const [deploymentId, deployment] = deployments[0];
  const props = stage?.Properties as { DeploymentId?: { Ref?: string }; StageName?: unknown } | undefined;
  if (stage?.Type !== 'AWS::ApiGateway::Stage' || props?.DeploymentId?.Ref !== 'ApiGatewayDeployment') {
    throw new PackagingError('serverless.yml: ApiGatewayStage must be an AWS::ApiGateway::Stage with DeploymentId { Ref: ApiGatewayDeployment }');
  }
  if (deployment.Properties?.StageName !== props.StageName) {
    throw new PackagingError(`the deployment's stage ${String(deployment.Properties?.StageName)} is not ApiGatewayStage's ${String(props.StageName)}`);
  }
  props.DeploymentId = { Ref: deploymentId };
  delete deployment.Properties?.StageName;
}
