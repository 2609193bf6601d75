/**
 * The local AWS endpoint: one loopback port for DynamoDB (dynalite), EMR, Step Functions, EventBridge, KMS, STS, IAM
 * and S3, routed as AWS routes them: by X-Amz-Target (JSON protocols), and S3 (REST-XML, path-style URLs) and the
 * Query protocol's IAM and STS by the SigV4 credential scope of the request (`.../REGION/s3/aws4_request`,
 * `.../iam/...`, `.../sts/...`: AWS's are endpoints of their own). The AWS SDKs and the AWS CLI work against it with
 * --endpoint-url. Signatures are not checked here (as in other local AWS emulators; the gateway's own API front
 * checks SigV4), but STS decides by the access key a request was signed with. Every request passes the loopback server's browser
 * guard (listen.ts) first, DynamoDB's too: dynalite has no port of its own. Faults can be injected for tests
 * and benchmarks.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { logger } from '../util/logger';
import { decodeOrKeep } from '../util/uri';
import type { LocalEmr } from './emr/api';
import { LocalServiceError } from './errors';
import type { LocalEventBus } from './events';
import { tapExchange, type ExchangeListener } from './exchange-tap';
import { readBody } from './http-body';
import type { LocalKms } from './kms';
import { listenLoopback } from './listen';
import type { LocalS3 } from './s3';
import { createS3Handler, s3RequestRegion } from './s3-http';
import { credentialScope } from './credential-scope';
import type { LocalIam } from './iam';
import { iamQueryService } from './iam-query';
import { answerQuery } from './query-protocol';
import type { LocalStepFunctions } from './sfn/api';
import type { LocalSts } from './sts';
import { stsQueryService } from './sts-query';
import type { QueryService } from './query-protocol';
import { SNS_CERT_PATH, type LocalSns } from './sns';
import { snsQueryService } from './sns-query';

export interface Faults {
  /** Share of EMR calls answered with ThrottlingException (0-1). */
  emrThrottleRate: number;
  /** Added to every EMR call. */
  emrLatencyMs: number;
  /** Share of DynamoDB calls answered with a 500 InternalServerError (0-1). */
  dynamoErrorRate: number;
  /** Share of DynamoDB calls answered with ThrottlingException (0-1). */
  dynamoThrottleRate: number;
}
export const NO_FAULTS: Faults = { emrThrottleRate: 0, emrLatencyMs: 0, dynamoErrorRate: 0, dynamoThrottleRate: 0 };

/** `emr.throttle=0.1,emr.latencyMs=50,dynamodb.errors=0.05,dynamodb.throttle=0.02` → Faults. */
export function parseFaults(spec: string | undefined): Faults {
  const faults = { ...NO_FAULTS };
  if (!spec) return faults;
  const keys: Record<string, keyof Faults> = { 'emr.throttle': 'emrThrottleRate', 'emr.latencyMs': 'emrLatencyMs', 'dynamodb.errors': 'dynamoErrorRate', 'dynamodb.throttle': 'dynamoThrottleRate' };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key = '', value = ''] = part.split('=');
    const field = keys[key];
    const number = Number(value);
    if (!field || !Number.isFinite(number) || number < 0 || (field !== 'emrLatencyMs' && number > 1)) {
      throw new Error(`fault "${part}" is not one of ${Object.keys(keys).join(', ')} with a rate in 0..1 (latency in ms)`);
    }
    faults[field] = number;
  }
  return faults;
}

export interface AwsEndpointOptions {
  host?: string;
  port: number;
  emr: LocalEmr;
  sfn: LocalStepFunctions;
  sts: LocalSts;
  iam: LocalIam;
  kms: LocalKms;
  /** The local SNS (Query protocol, routed by the credential scope `.../sns/aws4_request`). */
  sns: LocalSns;
  /** The local S3, and the account that owns its buckets. */
  s3: LocalS3;
  account: string;
  /** Local DynamoDB's request handler, called in-process (it listens on no port). */
  dynamo: RequestListener;
  /** The local EventBridge: PutEvents, and firing one named trigger. */
  events: Pick<LocalEventBus, 'putEvents' | 'fireTrigger'>;
  faults?: Faults;
  random?: () => number;
  /** Tests only: told of every request and the response it got (the model check of the e2e suite). */
  onExchange?: ExchangeListener;
}

export interface AwsEndpoint {
  url: string;
  server: Server;
  faults: Faults;
  /**
   * Tests and drills: the next `times` requests of a JSON-protocol operation (its X-Amz-Target, such as
   * `ElasticMapReduce.DescribeStep`) from anyone are answered 400 with `errorType`, as AWS answers a throttled one.
   * The gateway's functions run in a worker thread with their own SDK clients, so a fault is injected where they
   * all meet: here.
   */
  injectFault(target: string, errorType: string, times?: number): InjectedFault;
  close(): Promise<void>;
}

export interface InjectedFault {
  /** Requests of the operation seen since, and how many of them were failed. */
  readonly calls: number;
  readonly failed: number;
  disarm(): void;
}

type JsonHandler = (input: Record<string, unknown>, accessKey: string | undefined) => unknown;

const MAX_BODY = 16 * 1024 * 1024;

function accessKeyOf(req: IncomingMessage): string | undefined {
  return credentialScope(req)?.accessKeyId;
}

/** The body as text; an oversized one throws, and the request's error path answers 413 and closes the connection. */
async function readText(req: IncomingMessage): Promise<string> {
  const read = await readBody(req, MAX_BODY);
  if (!read.ok) throw new LocalServiceError('RequestEntityTooLarge', 'body too large', 413);
  return read.body.toString('utf8');
}

function sendJson(res: ServerResponse, status: number, contentType: string, body: unknown, errorType?: string): void {
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': crypto.randomUUID(), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  res.end(JSON.stringify(body));
}

/**
 * Any error of a request as a LocalServiceError: the services' own as they are, anything else a 500 of
 * `internalType`, logged (it is a fault of the emulator, not of the request). Each protocol then writes it
 * in its own wire shape.
 */
function serviceError(error: unknown, internalType: string, where: string): LocalServiceError {
  if (!(error instanceof LocalServiceError)) logger.error(`local AWS endpoint: ${where} failed`, { error });
  return LocalServiceError.from(error, internalType);
}

/** The members of SNS's operations that its unsigned links may carry (and nothing else). */
const SNS_LINK_MEMBERS: Readonly<Record<string, readonly string[]>> = { ConfirmSubscription: ['TopicArn', 'Token'], Unsubscribe: ['SubscriptionArn'] };

export async function startAwsEndpoint(options: AwsEndpointOptions): Promise<AwsEndpoint> {
  const faults = options.faults ?? { ...NO_FAULTS };
  const random = options.random ?? Math.random;
  const { emr, sfn, sts } = options;

  /**
   * The caller's account: EMR shows each account only its own clusters (a second account's cluster is not the first's).
   * The port checks no signatures: a request without a key STS knows (unsigned, say) is the stack's own account's.
   */
  const accountOf = (key: string | undefined): string => {
    try {
      return sts.caller(key).account;
    } catch {
      return options.iam.account;
    }
  };
  const own = (handler: JsonHandler): JsonHandler => (i, key) => {
    emr.assertVisible(i, accountOf(key));
    return handler(i, key);
  };
  const emrOps: Record<string, JsonHandler> = {
    AddJobFlowSteps: (i, key) => emr.addJobFlowSteps(i, sts.session(key)?.sourceIdentity),
    // The caller's source identity as for a step: carried into the runtime role's session where the cluster propagates it.
    GetClusterSessionCredentials: (i, key) => emr.getClusterSessionCredentials(i, sts.session(key)?.sourceIdentity),
    // The application UIs (Spark History Server), on the cluster and persistent, under the runtime role.
    GetOnClusterAppUIPresignedURL: (i) => emr.appUis.onClusterPresignedUrl(i),
    CreatePersistentAppUI: (i) => emr.appUis.createPersistent(i),
    GetPersistentAppUIPresignedURL: (i) => emr.appUis.persistentPresignedUrl(i),
    DescribeStep: (i) => emr.describeStep(i),
    ListSteps: (i) => emr.listSteps(i),
    CancelSteps: (i) => emr.cancelSteps(i),
    DescribeCluster: (i) => emr.describeCluster(i),
    ListInstanceGroups: (i) => emr.listInstanceGroups(i),
    ListBootstrapActions: (i) => emr.listBootstrapActions(i),
    RunJobFlow: (i) => emr.runJobFlow(i),
    CreateSecurityConfiguration: (i) => emr.createSecurityConfiguration(i),
  };
  for (const [name, handler] of Object.entries(emrOps)) emrOps[name] = own(handler);
  emrOps.ListClusters = (i, key) => emr.listClusters(i, accountOf(key));
  emrOps.DescribeSecurityConfiguration = (i, key) => emr.describeSecurityConfiguration(i, accountOf(key));
  const sfnOps: Record<string, JsonHandler> = {
    StartExecution: (i) => sfn.startExecution(i),
    DescribeExecution: (i) => sfn.describeExecution(i),
    StopExecution: (i) => sfn.stopExecution(i),
    ListExecutions: (i) => sfn.listExecutions(i),
    GetExecutionHistory: (i) => sfn.getExecutionHistory(i),
    DescribeStateMachine: (i) => sfn.describeStateMachine(i),
    SendTaskSuccess: (i) => sfn.sendTaskSuccess(i),
    SendTaskFailure: (i) => sfn.sendTaskFailure(i),
    SendTaskHeartbeat: (i) => sfn.sendTaskHeartbeat(i),
  };
  const eventOps: Record<string, JsonHandler> = {
    PutEvents: (i) => options.events.putEvents(i),
  };
  const { kms } = options;
  const kmsOps: Record<string, JsonHandler> = {
    CreateKey: (i) => kms.createKey(i),
    DescribeKey: (i) => kms.describeKey(i),
    GenerateMac: (i) => kms.generateMac(i),
    VerifyMac: (i) => kms.verifyMac(i),
    Sign: (i) => kms.sign(i),
    Verify: (i) => kms.verify(i),
    GetPublicKey: (i) => kms.getPublicKey(i),
  };

  async function json(req: IncomingMessage, res: ServerResponse, service: 'emr' | 'sfn' | 'events' | 'kms', operation: string): Promise<void> {
    const contentType = service === 'sfn' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    const table = { emr: emrOps, sfn: sfnOps, events: eventOps, kms: kmsOps }[service];
    const handler = Object.hasOwn(table, operation) ? table[operation] : undefined;
    const body = await readText(req);
    if (!handler) return sendJson(res, 400, contentType, { __type: 'UnknownOperationException', message: `${operation} is not supported by the local endpoint` }, 'UnknownOperationException');
    if (service === 'emr') {
      if (faults.emrLatencyMs) await new Promise((r) => setTimeout(r, faults.emrLatencyMs));
      if (random() < faults.emrThrottleRate) return sendJson(res, 400, contentType, { __type: 'ThrottlingException', message: 'Rate exceeded' }, 'ThrottlingException');
    }
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body ? JSON.parse(body) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, contentType, { __type: 'SerializationException', message: 'the body is not a JSON object' }, 'SerializationException');
    }
    try {
      sendJson(res, 200, contentType, handler(input, accessKeyOf(req)));
    } catch (error) {
      const e = serviceError(error, 'InternalServerException', `${service} ${operation}`);
      // A service's own error carries both spellings of the message, as AWS's JSON services variously send it.
      const body = error instanceof LocalServiceError ? { __type: e.type, message: e.message, Message: e.message } : { __type: e.type, message: e.message };
      sendJson(res, e.status, contentType, body, e.type);
    }
  }

  // IAM is per account: a caller of a second account the stack holds reads and changes that account's roles.
  const iamServices = new Map<string, ReturnType<typeof iamQueryService>>();
  const iamOf = (key: string | undefined) => {
    const target = sts.iamOf(accountOf(key)) ?? options.iam;
    let service = iamServices.get(target.account);
    if (!service) iamServices.set(target.account, (service = iamQueryService(target)));
    return service;
  };
  const stsService = stsQueryService(sts);
  let snsService: QueryService | undefined;
  const byVersion: Record<string, string> = { '2010-05-08': 'iam', '2010-03-31': 'sns' };
  function answerQueryOf(name: string, params: URLSearchParams, accessKeyId: string | undefined, res: ServerResponse): void {
    const service = name === 'iam' ? iamOf(accessKeyId) : name === 'sns' ? (snsService ??= snsQueryService(options.sns, options.account)) : stsService;
    const answer = answerQuery(service, params, accessKeyId, (error) => serviceError(error, 'InternalFailure', `${name} ${params.get('Action') ?? ''}`));
    res.writeHead(answer.status, { 'content-type': 'text/xml', 'x-amzn-requestid': answer.requestId });
    res.end(answer.body);
  }
  async function query(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new URLSearchParams(await readText(req));
    const scope = credentialScope(req);
    // By the service signed for; an unsigned request (a hand-made one) by its API version.
    const signedFor = scope?.service ?? byVersion[params.get('Version') ?? ''] ?? 'sts';
    answerQueryOf(signedFor === 'iam' || signedFor === 'sns' ? signedFor : 'sts', params, scope?.accessKeyId, res);
  }
  /** SNS's links, opened unsigned: a SubscriptionConfirmation's SubscribeURL and a Notification's UnsubscribeURL. */
  /**
   * SNS's unsigned links (a SubscriptionConfirmation's SubscribeURL, a Notification's UnsubscribeURL): exactly one
   * Action, ConfirmSubscription or Unsubscribe, with only that operation's members; anything else over GET is refused.
   */
  function snsLink(req: IncomingMessage, res: ServerResponse): void {
    const given = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const actions = given.getAll('Action');
    const members = actions.length === 1 ? SNS_LINK_MEMBERS[actions[0]!] : undefined;
    if (!members) return sendJson(res, 400, 'application/json', { __type: 'InvalidAction', message: 'a GET of the local SNS is one of its links: Action=ConfirmSubscription or Action=Unsubscribe, once' });
    const params = new URLSearchParams({ Action: actions[0]! });
    for (const name of members) for (const value of given.getAll(name).slice(0, 1)) params.set(name, value);
    answerQueryOf('sns', params, undefined, res);
  }

  /** POST /_local/triggers/{name} with an event: fires that trigger (emr-gateway trigger NAME --event FILE). */
  async function fireTrigger(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 415, 'application/json', { error: { code: 'UnsupportedMediaType', message: 'send the event as application/json' } });
    }
    const name = decodeOrKeep((req.url ?? '').slice('/_local/triggers/'.length));
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(await readText(req)) as Record<string, unknown>;
      if (!event || typeof event !== 'object' || Array.isArray(event)) throw new Error('not an object');
    } catch {
      return sendJson(res, 400, 'application/json', { error: { code: 'ValidationError', message: 'the body must be an EventBridge event (a JSON object)' } });
    }
    try {
      sendJson(res, 200, 'application/json', await options.events.fireTrigger(name, event));
    } catch (error) {
      const e = serviceError(error, 'InternalError', `trigger ${name}`);
      sendJson(res, e.status, 'application/json', { error: { code: e.type, message: e.message } });
    }
  }

  /** GET /_local/emr/steps/{stepId}/{stdout|stderr}: a step's logs (EMR keeps them under the cluster's LogUri). */
  function logs(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/_local\/emr\/steps\/(s-[0-9A-Z]+)\/(stdout|stderr)$/.exec(req.url ?? '');
    const file = m ? emr.logFile(m[1]!, m[2] as 'stdout' | 'stderr') : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('no such step log\n');
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    createReadStream(file).pipe(res);
  }

  /** GET /_local/emr/ui/{token}: the page an application UI's presigned link opens (the token is the credential). */
  function appUi(req: IncomingMessage, res: ServerResponse): void {
    const token = /^\/_local\/emr\/ui\/([A-Za-z0-9_-]{1,64})$/.exec(req.url ?? '')?.[1];
    const { status, html } = token ? emr.appUis.page(token) : { status: 404, html: 'no such page\n' };
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // The link is a credential: not sent on as a Referer; the page runs no script and loads nothing.
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
    res.end(html);
  }

  const s3 = createS3Handler({ s3: options.s3, account: options.account, maxBody: MAX_BODY });

  const injected: { target: string; errorType: string; remaining: number; calls: number; failed: number }[] = [];
  const injectFault = (target: string, errorType: string, times = Infinity): InjectedFault => {
    const fault = { target, errorType, remaining: times, calls: 0, failed: 0 };
    injected.push(fault);
    return {
      get calls() {
        return fault.calls;
      },
      get failed() {
        return fault.failed;
      },
      disarm: () => {
        const at = injected.indexOf(fault);
        if (at >= 0) injected.splice(at, 1);
      },
    };
  };
  /** The answer of the first fault on `target` with failures left, after every fault on it has counted the call. */
  const injectedFailure = (target: string): string | undefined => {
    for (const f of injected) if (f.target === target) f.calls++;
    const fault = injected.find((f) => f.target === target && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining--;
    fault.failed++;
    return fault.errorType;
  };

  const handler: RequestListener = (req, res) => {
    if (options.onExchange) tapExchange(req, res, options.onExchange);
    const target = req.headers['x-amz-target'];
    const failure = typeof target === 'string' && injected.length ? injectedFailure(target) : undefined;
    if (failure) return sendJson(res, 400, String(req.headers['content-type'] ?? 'application/x-amz-json-1.1'), { __type: failure, message: `injected ${failure}` }, failure);
    const s3Region = s3RequestRegion(req);
    const route = (): Promise<void> | void => {
      if (typeof target === 'string' && target.startsWith('DynamoDB_20120810.')) {
        if (random() < faults.dynamoThrottleRate) return sendJson(res, 400, 'application/x-amz-json-1.0', { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' });
        if (random() < faults.dynamoErrorRate) return sendJson(res, 500, 'application/x-amz-json-1.0', { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error (injected)' });
        return options.dynamo(req, res);
      }
      if (typeof target === 'string' && target.startsWith('ElasticMapReduce.')) return json(req, res, 'emr', target.slice('ElasticMapReduce.'.length));
      if (typeof target === 'string' && target.startsWith('AWSStepFunctions.')) return json(req, res, 'sfn', target.slice('AWSStepFunctions.'.length));
      if (typeof target === 'string' && target.startsWith('AWSEvents.')) return json(req, res, 'events', target.slice('AWSEvents.'.length));
      if (typeof target === 'string' && target.startsWith('TrentService.')) return json(req, res, 'kms', target.slice('TrentService.'.length));
      // Signed for S3: its REST paths, before the Query protocol (a PutObject may well be form-encoded).
      if (s3Region !== undefined) return s3(req, res, s3Region, accountOf(accessKeyOf(req)));
      if (req.method === 'POST' && req.url?.startsWith('/_local/triggers/')) return fireTrigger(req, res);
      if (req.method === 'GET' && req.url?.startsWith('/_local/emr/steps/')) return logs(req, res);
      if (req.method === 'GET' && req.url?.startsWith('/_local/emr/ui/')) return appUi(req, res);
      if (req.method === 'GET' && req.url === SNS_CERT_PATH) {
        res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' });
        return void res.end(options.sns.certificate);
      }
      if (req.method === 'GET' && /^\/\?(?:.*&)?Action=(?:ConfirmSubscription|Unsubscribe)(?:&|$)/.test(req.url ?? '')) return snsLink(req, res);
      if (req.method === 'GET' && req.url === '/_local/health') return sendJson(res, 200, 'application/json', { status: 'ok' });
      if (req.method === 'POST' && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return query(req, res);
      sendJson(res, 400, 'application/json', { __type: 'UnknownOperationException', message: `no local service for ${req.method ?? ''} ${req.url ?? ''} (X-Amz-Target: ${String(target ?? 'none')})` });
    };
    Promise.resolve(route()).catch((error: unknown) => {
      const e = serviceError(error, 'InternalFailure', `${req.method ?? ''} ${req.url ?? ''}`);
      if (!res.headersSent) {
        res.setHeader('connection', 'close');
        sendJson(res, e.status, 'application/json', { __type: e.type, message: e.message });
      } else res.end();
    });
  };
  // A step can run any command as the local user, and DynamoDB holds the jobs a restart runs: a web page
  // gets a 403 without a CORS header, so it reads nothing.
  const refuse = (res: ServerResponse, reason: string) => sendJson(res, 403, 'application/json', { __type: 'AccessDeniedException', message: reason });
  return { ...(await listenLoopback({ port: options.port, ...(options.host ? { host: options.host } : {}), handler, refuse })), faults, injectFault };
}
