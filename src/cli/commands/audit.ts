/** `audit JOB_ID [--verify]`: the job's audit trail, its hash chain verified here rather than taken from the server. */
import { parseArgs } from 'node:util';
import { verifyChain } from '../../audit/chain';
import type { CliEnvironment } from '../../config/env';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, table, type Io } from '../output';
import { EXIT, jobIdArg } from '../usage';

export async function audit(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...connectionOptions, verify: { type: 'boolean', default: false } } });
  const { client, output } = connect(values, env);
  const jobId = jobIdArg(positionals);
  return withApiErrors(io, async () => {
    const trail = await client.audit(jobId);
    // Verified here, from the events themselves: the server's own verdict is not taken on trust.
    const verification = verifyChain(jobId, trail.events.map((e) => ({ ...e, jobId })));
    if (output === 'json') io.out(json({ ...trail, ...(values.verify ? { verification } : {}) }));
    else {
      io.out(
        table(
          ['SEQ', 'AT', 'EVENT', 'BY', 'DETAIL'],
          trail.events.map((e) => [String(e.seq), e.at, e.type, actorLabel(e.actor), summary(e)]),
        ),
      );
      if (values.verify) {
        io.out(verification.ok ? `verified: ${verification.events} events, chain head ${verification.head}` : `BROKEN at event ${verification.seq}: ${verification.problem}`);
      }
    }
    return values.verify && !verification.ok ? EXIT.failed : EXIT.ok;
  });
}

function actorLabel(actor: Record<string, unknown> | undefined): string {
  const who = actor?.sourceIdentity ?? actor?.callerArn;
  return typeof who === 'string' ? who : '';
}

function summary(e: { decision?: Record<string, unknown>; emr?: Record<string, unknown>; detail?: Record<string, unknown> }): string {
  if (e.decision) return String(e.decision.result);
  if (e.emr) return [e.emr.stepId, e.emr.state].filter((v): v is string => typeof v === 'string').join(' ');
  if (e.detail) return Object.entries(e.detail).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ').slice(0, 120);
  return '';
}
