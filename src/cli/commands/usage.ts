/**
 * `usage [--from T] [--to T] [--group-by principal|role|cluster|tag:KEY] [--output table|json|csv]`: GET /usage, the
 * jobs that ended in the range (default: the last 7 days), counted by final state with their step-seconds. A table for
 * people, JSON (the API's answer) or CSV (RFC 4180; a cell a spreadsheet would run as a formula is quoted with a
 * leading ' as OWASP advises) for programs.
 */
import { parseArgs } from 'node:util';
import type { UsageResponse } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { TERMINAL_STATUSES } from '../../jobs/model';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, table, type Io } from '../output';
import { EXIT, UsageError } from '../usage';
import { instantArg } from './jobs';

export async function usage(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connectionOptions, from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' } } });
  const csv = values.output === 'csv';
  const { client, output } = connect({ ...values, output: csv ? 'table' : values.output }, env);
  if (values['group-by'] !== undefined && values['group-by'].trim() === '') throw new UsageError('--group-by takes principal, role, cluster or tag:KEY');
  const query = {
    ...(values.from !== undefined ? { from: instantArg('--from', values.from, 'start') } : {}),
    ...(values.to !== undefined ? { to: instantArg('--to', values.to, 'end') } : {}),
    ...(values['group-by'] !== undefined ? { groupBy: values['group-by'] } : {}),
  };
  return withApiErrors(io, async () => {
    const report = await client.usage(query);
    if (csv) io.out(toCsv(report));
    else if (output === 'json') io.out(json(report));
    else io.out(toTable(report));
    return EXIT.ok;
  });
}

const NONE = '(none)';

/** The statuses a report shows: every terminal one that any group has, in their usual order. */
function statusesOf(report: UsageResponse): string[] {
  return TERMINAL_STATUSES.filter((s) => (report.total.byStatus[s] ?? 0) > 0);
}

function toTable(report: UsageResponse): string {
  const statuses = statusesOf(report);
  const head = [report.groupBy.toUpperCase(), 'JOBS', ...statuses, 'STEP-SECONDS', 'STEP-HOURS'];
  const row = (key: string, c: UsageResponse['total']) => [key, String(c.jobs), ...statuses.map((s) => String(c.byStatus[s] ?? 0)), String(c.stepSeconds), (c.stepSeconds / 3600).toFixed(2)];
  const rows = report.groups.map((g) => row(g.key ?? NONE, g));
  const lines = [`jobs that ended from ${report.from} to ${report.to}${report.groups.length ? '' : ': none you may list'}`];
  if (rows.length) lines.push(table(head, [...rows, row('TOTAL', report.total)]));
  return lines.join('\n');
}

function toCsv(report: UsageResponse): string {
  const row = (cells: (string | number)[]) => cells.map(cell).join(',');
  const lines = [row(['key', 'jobs', ...TERMINAL_STATUSES, 'stepSeconds'])];
  for (const g of report.groups) lines.push(row([g.key ?? '', g.jobs, ...TERMINAL_STATUSES.map((s) => g.byStatus[s] ?? 0), g.stepSeconds]));
  return lines.join('\n');
}

/** RFC 4180: quoted where it holds a comma, quote or line break; a text a spreadsheet would evaluate starts with '. */
function cell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
