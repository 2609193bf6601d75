/**
 * GET /usage on the local stack (issue 16, item 5): the jobs that ended in a time range, counted by final state, and
 * their step-seconds from EMR's step timeline (StartDateTime to EndDateTime), grouped by principal, runtime role,
 * cluster or a tag; read from an index of jobs by the day they ended (no table scan), and only the jobs this caller
 * may list. The CLI's `usage`: a table for people, JSON and CSV for programs.
 */
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { apiRejection, cliAs, clientFor, finished, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(120_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const TEAM_A = 'arn:aws:iam::123456789012:role/DataTeamA';

let stack: LocalStack;
let alice: GatewayClient;
let carol: GatewayClient;
const ids: string[] = [];
let from: string;

beforeAll(async () => {
  stack = await startStack(newDataDir(), { inMemory: true });
  alice = clientFor(stack, 'alice');
  carol = clientFor(stack, 'carol');
  from = new Date(Date.now() - 60_000).toISOString();
  const submit = async (args: string[], tags: Record<string, string>) => {
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'usage', step: { type: 'command', args }, tags });
    ids.push(jobId);
  };
  await submit(['sleep', '2'], { project: 'alpha' });
  await submit(['true'], { project: 'alpha' });
  await submit(['false'], { project: 'beta' });
  for (const id of ids) await finished(alice, id);
});
afterAll(() => stack?.stop());

const rejection = apiRejection;

const cli = (...args: string[]) => cliAs(stack, 'alice', args);

it('counts the ended jobs by final state with their step-seconds, grouped by principal (the default) and by a tag', async () => {
  const byPrincipal = await alice.usage({ from });
  expect(byPrincipal.groupBy).toBe('principal');
  expect(byPrincipal.groups).toEqual([{ key: TEAM_A, jobs: 3, byStatus: { COMPLETED: 2, FAILED: 1 }, stepSeconds: expect.any(Number) }]);
  // `sleep 2` ran about two seconds by EMR's timeline; the others about none.
  expect(byPrincipal.groups[0]!.stepSeconds).toBeGreaterThanOrEqual(2);
  expect(byPrincipal.groups[0]!.stepSeconds).toBeLessThan(10);
  expect(byPrincipal.total).toEqual({ jobs: 3, byStatus: { COMPLETED: 2, FAILED: 1 }, stepSeconds: byPrincipal.groups[0]!.stepSeconds });

  const byTag = await alice.usage({ from, groupBy: 'tag:project' });
  expect(byTag.groups.map((g) => [g.key, g.jobs, g.byStatus])).toEqual([
    ['alpha', 2, { COMPLETED: 2 }],
    ['beta', 1, { FAILED: 1 }],
  ]);
  const byRole = await alice.usage({ from, groupBy: 'role' });
  expect(byRole.groups.map((g) => g.key)).toEqual([ETL]);
});

it('only the jobs the caller may list: carol, allowed nothing, counts none', async () => {
  await expect(carol.usage({ from })).resolves.toMatchObject({ groups: [], total: { jobs: 0, byStatus: {}, stepSeconds: 0 } });
});

it('a range that ends before the jobs did counts none; bad ranges and groupings are 400s naming the parameter', async () => {
  await expect(alice.usage({ from: '2020-01-01', to: '2020-01-02' })).resolves.toMatchObject({ groups: [] });
  for (const [query, field] of [
    [{ groupBy: 'colour' }, 'groupBy'],
    [{ groupBy: 'tag:' }, 'groupBy'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '2026-01-01', to: '2025-01-01' }, 'to'],
    [{ from: '2020-01-01', to: '2026-01-01' }, 'from'],
  ] as const) {
    const refused = await rejection(alice.usage(query));
    expect([refused.status, refused.code, refused.message]).toEqual([400, 'ValidationError', expect.stringContaining(field)]);
  }
});

it('the CLI: a table for people, JSON and CSV for programs', async () => {
  const table = await cli('usage', '--from', from, '--group-by', 'tag:project');
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^TAG:PROJECT +JOBS +COMPLETED +FAILED +.*STEP-SECONDS/m);
  expect(table.stdout).toMatch(/^alpha +2 +2 +0 /m);
  const json = await cli('usage', '--from', from, '--output', 'json');
  expect(JSON.parse(json.stdout)).toMatchObject({ groupBy: 'principal', total: { jobs: 3 } });
  const csv = await cli('usage', '--from', from, '--group-by', 'tag:project', '--output', 'csv');
  expect(csv.code).toBe(0);
  const [header, ...rows] = csv.stdout.trim().split('\n');
  expect(header).toBe('key,jobs,COMPLETED,FAILED,CANCELLED,INTERRUPTED,TIMED_OUT,REJECTED,stepSeconds');
  expect(rows[0]).toMatch(/^alpha,2,2,0,0,0,0,0,\d+$/);
});
