/** The gateway's configuration file (YAML), as a zod schema: strict objects, so unknown keys are errors. */
import { z } from 'zod';
import { ACCOUNT_ID, AWS_PARTITIONS, clusterIdProblem, PRINCIPAL_ARN, REGION } from '../identifiers';
import { ACTIONS_ON_FAILURE, DEFAULT_ACTION_ON_FAILURE } from '../jobs/request';
import { compilePattern, PARAMETER_TYPES } from '../triggers/parameters';

/** An EMR release label, emr-MAJOR.MINOR.PATCH (RunJobFlow's ReleaseLabel). */
export const RELEASE_LABEL = /^emr-\d+\.\d+\.\d+$/;
/** The local EMR's clusters unless configured otherwise: what `aws emr create-cluster --use-default-roles` makes with Spark and Hive. */
export const LOCAL_CLUSTER_DEFAULTS = { releaseLabel: 'emr-7.5.0', applications: ['Spark', 'Hive'], instanceProfile: 'EMR_EC2_DefaultRole', primaryNodes: 1 } as const;

const PARAMETER_NAME = /^[A-Za-z_][\w.-]*$/;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const nameOf = (what: string) => z.string().regex(NAME, `${what} names are 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`);
const arnPattern = z.string().regex(/^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$/, 'must be an ARN or an ArnLike pattern (arn:partition:service:region:account:resource)');

const clusterSchema = z
  .object({
    id: z.string().superRefine((id, ctx) => {
      const problem = clusterIdProblem(id);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    name: z.string().min(1).max(256),
    runtimeRoles: z.boolean().describe('the security configuration enables runtime roles (EnableApplicationScopedIAMRole)'),
    propagateSourceIdentity: z.boolean().default(false),
    stepConcurrencyLevel: z.number().int().min(1).max(256).default(1).describe('used by the local EMR'),
    // CONTINUE only unless the cluster's owners opt in: on a shared cluster, any other action lets one tenant's
    // failing step cancel everyone's pending steps (or end the cluster).
    allowedActionsOnFailure: z
      .array(z.enum(ACTIONS_ON_FAILURE, { error: (iss) => `must be one of ${ACTIONS_ON_FAILURE.join(', ')} (got ${JSON.stringify(iss.input)})` }))
      .min(1)
      .default([DEFAULT_ACTION_ON_FAILURE])
      .describe('the actionOnFailure values requests may ask for on this cluster'),
    // How the local EMR makes the cluster (in AWS the cluster is what it is: `emr-gateway doctor` checks it).
    local: z
      .object({
        releaseLabel: z.string().regex(RELEASE_LABEL, 'must be an EMR release label such as emr-7.5.0').default(LOCAL_CLUSTER_DEFAULTS.releaseLabel),
        applications: z.array(z.string().regex(/^[A-Za-z][\w-]{0,63}$/, 'must be an application name such as Spark')).default([...LOCAL_CLUSTER_DEFAULTS.applications]),
        instanceProfile: z.string().regex(/^[\w+=,.@-]{1,128}$/, 'must be an IAM instance profile name').default(LOCAL_CLUSTER_DEFAULTS.instanceProfile),
        primaryNodes: z.union([z.literal(1), z.literal(3)], { error: 'must be 1, or 3 for a multi-primary (high-availability) cluster' }).default(1),
      })
      .strict()
      .default({ ...LOCAL_CLUSTER_DEFAULTS, applications: [...LOCAL_CLUSTER_DEFAULTS.applications] })
      .describe('how the local EMR describes the cluster; unused in AWS'),
  })
  .strict();

const principalSchema = z
  .object({
    match: arnPattern.describe('ArnLike pattern on the caller (an assumed-role session matches as its role ARN)'),
    policies: z.array(z.string().min(1)).default([]),
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
    sessionNames: z
      .enum(['verified', 'caller-chosen'], { error: 'must be verified (AWS sets the session names, as for IAM Identity Center roles) or caller-chosen' })
      .default('caller-chosen')
      .describe('whether an assumed-role session name is a person (aws:SourceIdentity, the owner) or what the caller chose'),
  })
  .strict();

const policyRefSchema = z.object({ file: z.string().min(1) }).strict();
/** Inline policy documents are checked by the policy compiler, which knows IAM's grammar and reports paths. */
const policySchema = z.union([policyRefSchema, z.record(z.string(), z.unknown())]);

const parameterSchema = z
  .object({
    type: z.enum(PARAMETER_TYPES).default('string'),
    pattern: z
      .string()
      .min(1)
      .superRefine((pattern, ctx) => {
        const re = compilePattern(pattern);
        if (typeof re === 'string') ctx.addIssue({ code: 'custom', message: `is not a regular expression: ${re}` });
      })
      .optional()
      .describe('a JavaScript regular expression (Unicode) the whole value must match'),
    maxLength: z.number().int().min(0).optional(),
    description: z.string().max(1024).optional(),
  })
  .strict();

/** A POST /jobs body with `${param}` placeholders, and the declarations of its parameters (not part of the body). */
const templateSchema = z
  .object({
    parameters: z.record(z.string().regex(PARAMETER_NAME, 'parameter names are a letter or _, then letters, digits, _, . or -'), parameterSchema).optional(),
  })
  .catchall(z.unknown());

const scheduleSchema = z
  .object({
    name: nameOf('schedule'),
    schedule: z.string().regex(/^(cron|rate)\(.+\)$/, 'must be cron(...) or rate(...) (EventBridge syntax)'),
    template: z.string().min(1),
    params: z.record(z.string(), z.string()).default({}),
    principal: arnPattern,
  })
  .strict();

const triggerSchema = z
  .object({
    name: nameOf('trigger'),
    eventPattern: z.record(z.string(), z.unknown()),
    template: z.string().min(1),
    params: z.record(z.string(), z.string()).default({}),
    principal: arnPattern,
  })
  .strict();

const localCredentialSchema = z
  .object({
    accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be 16-128 upper-case letters and digits, like an AWS access key id'),
    secretAccessKey: z.string().min(8),
    principal: z.string().regex(PRINCIPAL_ARN, 'must be an IAM or STS principal ARN'),
  })
  .strict();

export const configSchema = z
  .object({
    account: z.string().regex(ACCOUNT_ID, 'must be a 12-digit AWS account id (quote it in YAML)'),
    region: z.string().regex(REGION, 'must be an AWS region such as us-east-1'),
    partition: z.enum(AWS_PARTITIONS).optional(),
    clusters: z.array(clusterSchema).min(1, 'at least one cluster is needed'),
    runtimeRoles: z.array(z.string()).default([]),
    principals: z.array(principalSchema).default([]),
    policies: z.record(nameOf('policy'), policySchema).default({}),
    templates: z.record(nameOf('template'), templateSchema).default({}),
    schedules: z.array(scheduleSchema).default([]),
    triggers: z.array(triggerSchema).default([]),
    local: z.object({ credentials: z.array(localCredentialSchema).default([]) }).strict().default({ credentials: [] }),
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;
export type ClusterConfig = RawConfig['clusters'][number];
export type LocalCredential = RawConfig['local']['credentials'][number];
