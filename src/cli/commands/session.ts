/**
 * `session`: interactive-session credentials through the gateway (POST /sessions), printed as a notebook needs them:
 * Livy's endpoint, the user name and password, their expiry, and a sparkmagic configuration. `session list` and
 * `session show ID`: the caller's sessions, never with a password (the gateway keeps none). A denial is recorded, as a
 * denied submission is: its session id is printed, with the audit command that shows the decision.
 */
import { parseArgs } from 'node:util';
import { GatewayApiError, type OpenedSession, type SessionView } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { connect, connectionOptions, reportApiError, withApiErrors } from '../connection';
import { elapsed } from '../job-output';
import { fields, json, table, type Io } from '../output';
import { EXIT, required, UsageError } from '../usage';

export function session(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  if (args[0] === 'list') return list(args.slice(1), io, env);
  if (args[0] === 'show') return show(args.slice(1), io, env);
  return open(args, io, env);
}

async function open(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connectionOptions, cluster: { type: 'string' }, role: { type: 'string' }, duration: { type: 'string' } } });
  const { client, output } = connect(values, env);
  const body = {
    clusterId: required(values.cluster, '--cluster'),
    executionRoleArn: required(values.role, '--role'),
    ...(values.duration !== undefined ? { durationSeconds: wholeSeconds(values.duration) } : {}),
  };
  return withApiErrors(io, async () => {
    let opened: OpenedSession;
    try {
      opened = await client.openSession(body);
    } catch (error) {
      const denied = deniedSession(error);
      if (!denied) throw error;
      io.out(output === 'json' ? json({ sessionId: denied, status: 'DENIED', decision: (error as GatewayApiError).details?.decision }) : `${denied}  DENIED`);
      const code = reportApiError(io, error as GatewayApiError);
      if (output === 'table') io.err(`The denial is recorded: emr-gateway audit ${denied}`);
      return code;
    }
    if (output === 'json') io.out(json({ ...opened, ...(opened.endpoints?.livy ? { sparkmagic: sparkmagicConfig(opened.endpoints.livy, opened.credentials) } : {}) }));
    else io.out(renderOpened(opened));
    const short = shortLife(opened);
    if (short) io.err(short);
    return EXIT.ok;
  });
}

async function list(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connectionOptions, limit: { type: 'string' }, 'next-token': { type: 'string' }, all: { type: 'boolean', default: false } } });
  const { client, output } = connect(values, env);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100 && /^\d+$/.test(values.limit ?? ''))) throw new UsageError(`--limit must be a whole number from 1 to 100, not ${JSON.stringify(values.limit)}`);
  return withApiErrors(io, async () => {
    const sessions: SessionView[] = [];
    let nextToken = values['next-token'];
    do {
      const page = await client.listSessions({ ...(limit !== undefined ? { limit } : {}), ...(nextToken !== undefined ? { nextToken } : {}) });
      sessions.push(...page.sessions);
      nextToken = page.nextToken;
    } while (values.all && nextToken);
    if (output === 'json') io.out(json({ sessions, ...(nextToken ? { nextToken } : {}) }));
    else {
      if (sessions.length) io.out(table(['SESSION', 'STATUS', 'CLUSTER', 'ROLE', 'EXPIRES', 'CREATED'], sessions.map((s) => [s.sessionId, s.status, s.clusterId, s.executionRoleArn, s.expiresAt ?? '', s.createdAt])));
      else io.err('no sessions');
      if (nextToken) io.err(`more: --next-token ${nextToken} (or --all)`);
    }
    return EXIT.ok;
  });
}

async function show(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: connectionOptions });
  const { client, output } = connect(values, env);
  if (positionals.length !== 1) throw new UsageError('give one session id');
  const sessionId = positionals[0]!;
  return withApiErrors(io, async () => {
    const found = await client.getSession(sessionId);
    io.out(output === 'json' ? json(found) : renderSession(found));
    return EXIT.ok;
  });
}

function wholeSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--duration takes whole seconds, not "${value}"`);
  return n;
}

/** The session a 403 recorded as DENIED (the gateway names it in the error's details). */
function deniedSession(error: unknown): string | undefined {
  if (!(error instanceof GatewayApiError) || error.status !== 403) return undefined;
  const sessionId = error.details?.sessionId;
  return typeof sessionId === 'string' ? sessionId : undefined;
}

/** sparkmagic's ~/.sparkmagic/config.json credentials for Livy: HTTP basic authentication (its `Basic_Access`). */
export function sparkmagicConfig(livy: string, credentials: { username: string; password: string }): Record<string, unknown> {
  const entry = { username: credentials.username, password: credentials.password, url: livy, auth: 'Basic_Access' };
  return { kernel_python_credentials: entry, kernel_scala_credentials: entry, kernel_r_credentials: entry };
}

function common(s: SessionView): [string, string][] {
  return [
    ['Session', s.sessionId],
    ['Status', s.status],
    ['Cluster', s.clusterId],
    ['Runtime role', s.executionRoleArn],
    ['Caller', `${s.caller.callerArn}${s.caller.sourceIdentity ? ` (source identity ${s.caller.sourceIdentity})` : ''}`],
    ['Decision', `${s.decision.result}: ${s.decision.reason}`],
  ];
}

function expiry(s: SessionView): string {
  if (!s.expiresAt) return '';
  const left = Date.parse(s.expiresAt) - Date.now();
  return left > 0 ? `${s.expiresAt} (in ${elapsed(new Date().toISOString(), new Date(s.expiresAt))})` : `${s.expiresAt} (expired)`;
}

function endpointPairs(s: SessionView): [string, string][] {
  if (!s.endpoints) return [];
  return [['Livy', s.endpoints.livy ?? `none: the cluster has no Livy (primary node ${s.endpoints.masterPublicDnsName})`]];
}

function renderOpened(s: OpenedSession): string {
  const pairs: [string, string][] = [...common(s), ...endpointPairs(s), ['Username', s.credentials.username], ['Password', s.credentials.password], ['Expires', expiry(s)]];
  const livy = s.endpoints?.livy;
  const snippet = livy
    ? ['', 'sparkmagic (in ~/.sparkmagic/config.json):', json(sparkmagicConfig(livy, s.credentials))]
    : [];
  return [fields(pairs), ...snippet, '', 'The password is shown only now: the gateway keeps none. Audit: emr-gateway audit ' + s.sessionId].join('\n');
}

function renderSession(s: SessionView): string {
  const pairs: [string, string][] = [...common(s), ...endpointPairs(s)];
  if (s.username) pairs.push(['Username', s.username]);
  if (s.expiresAt) pairs.push(['Expires', expiry(s)]);
  if (s.durationSeconds !== undefined) pairs.push(['Asked for', `${s.durationSeconds}s`]);
  if (s.failure) pairs.push(['Failure', `${s.failure.error}: ${s.failure.message}`]);
  pairs.push(['Created', s.createdAt]);
  return fields(pairs);
}

/** EMR sets the expiry: where it comes before the life asked for, say so (the credentials cannot be extended). */
function shortLife(s: OpenedSession): string | undefined {
  if (s.durationSeconds === undefined || !s.expiresAt) return undefined;
  const wanted = Date.parse(s.createdAt) + s.durationSeconds * 1000;
  return Date.parse(s.expiresAt) < wanted ? `note: EMR's credentials expire at ${s.expiresAt}, before the ${s.durationSeconds}s asked for: open a new session then` : undefined;
}
