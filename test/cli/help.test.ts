/**
 * Help as a newcomer asks for it (child process, no gateway needed): each command's --help is that command's,
 * `policy --help` is the policy commands', --version, and a mistyped command or flag gets a "did you mean".
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cli, ROOT } from '../support/cli';

jest.setTimeout(60_000);

const { version } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('emr-gateway COMMAND --help', () => {
  it.each([
    [['submit', '--help'], /^Usage: emr-gateway submit --cluster ID --role ROLE_ARN --name NAME STEP/, ['--idempotency-key', '--wait', '--spark', '--hive', '--jar', '--retry N', '--retry-interval', '--retry-backoff', '--retry-on', 'defaultRetry']],
    [['status', '-h'], /^Usage: emr-gateway status JOB_ID/, ['--output', 'attempt']],
    [['wait', '--help'], /^Usage: emr-gateway wait JOB_ID/, ['--endpoint']],
    [['cancel', '--help'], /^Usage: emr-gateway cancel JOB_ID/, ['--mode', 'SEND_INTERRUPT']],
    [['list', '--help'], /^Usage: emr-gateway list/, ['--from', '2026-12-01T09:30:00Z', '--next-token', '--all']],
    [['audit', '--help'], /^Usage: emr-gateway audit JOB_ID/, ['--verify']],
    [['session', '--help'], /^Usage: emr-gateway session --cluster ID --role ROLE_ARN/, ['--duration', 'session list', 'session show SESSION_ID', 'sparkmagic']],
    [['session', 'list', '--help'], /^Usage: emr-gateway session --cluster ID/, ['--next-token']],
    [['roles', '--help'], /^Usage: emr-gateway roles/, ['--cluster', '--config', '--principal']],
    [['logs', '--help'], /^Usage: emr-gateway logs JOB_ID/, ['--stream', '--tail', '--follow', 'LogNotYetWritten', '--attempt N']],
    [['ui', '--help'], /^Usage: emr-gateway ui JOB_ID/, ['--open', 'GetOnClusterAppUIPresignedURL']],
    [['trigger', '--help'], /^Usage: emr-gateway trigger NAME --event FILE\.json/, ['--aws-endpoint']],
    [['local', '--help'], /^Usage: emr-gateway local/, ['--aws-port', '--data-dir', '--faults']],
    [['policy', '--help'], /^Usage: emr-gateway policy check/, ['policy lint', '--principal', '--context']],
    [['policy', 'check', '--help'], /^Usage: emr-gateway policy check/, ['--principal', '--at']],
    [['policy', 'lint', '--help'], /^Usage: emr-gateway policy lint --config FILE/, ['--output']],
    [['help', 'list'], /^Usage: emr-gateway list/, ['--limit']],
    [['help', 'policy'], /^Usage: emr-gateway policy check/, ['policy lint']],
  ])('%j: that command\'s help, exit 0', (args, first, mentions) => {
    const r = cli(...args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(first);
    for (const text of mentions) expect(r.stdout).toContain(text);
    // Not the global help: that one begins with what emr-gateway is and lists every command.
    expect(r.stdout).not.toContain('submit and follow Amazon EMR steps');
  });

  it('a --help among the arguments of the step is the step\'s, not a request for help', () => {
    // Without --endpoint the submit goes as far as connecting: it did not print help.
    const r = cli('submit', '--cluster', 'j-2AXXXXXXGAPLF', '--role', 'arn:aws:iam::123456789012:role/R', '--name', 'n', '--', 'spark-submit', '--help');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--endpoint');
  });

  it('`policy` alone names its subcommands (exit 2); a mistyped one gets a suggestion', () => {
    const bare = cli('policy');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/emr-gateway policy: give a subcommand: check or lint/);
    const typo = cli('policy', 'chek', '--config', 'x');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command "policy chek" \(did you mean "policy check"\?\)/);
  });
});

describe('emr-gateway --version', () => {
  it.each([['--version'], ['version']])('%s prints the package version, exit 0', (arg) => {
    expect(cli(arg)).toMatchObject({ code: 0, stdout: `emr-gateway ${version}\n`, stderr: '' });
  });
});

describe('did you mean', () => {
  it.each([
    ['sumbit', 'submit'],
    ['stauts', 'status'],
    ['lsit', 'list'],
    ['role', 'roles'],
    ['audti', 'audit'],
  ])('a mistyped command %s: "did you mean %s", a pointer to --help, not the whole help; exit 2', (typo, meant) => {
    const r = cli(typo);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`emr-gateway: unknown command "${typo}" (did you mean "${meant}"?)`);
    expect(r.stderr).toContain("Run 'emr-gateway --help' for the commands.");
    expect(r.stderr).not.toContain('Offline (from a configuration file');
    expect(r.stdout).toBe('');
  });

  it('a command nothing resembles: no suggestion', () => {
    const r = cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^emr-gateway: unknown command "frobnicate"\n/);
    expect(r.stderr).not.toContain('did you mean');
  });

  it.each([
    [['list', '--limt', '3'], 'list', '--limt', '--limit'],
    [['submit', '--clutser', 'j-1', '--', 'true'], 'submit', '--clutser', '--cluster'],
    [['cancel', 'job-x', '--mdoe', 'NOW'], 'cancel', '--mdoe', '--mode'],
    [['audit', 'job-x', '--verfy'], 'audit', '--verfy', '--verify'],
    [['policy', 'check', '--principle', 'x'], 'policy check', '--principle', '--principal'],
    [['local', '--aws-prot', '1'], 'local', '--aws-prot', '--aws-port'],
    [['submit', '--retyr', '3', '--', 'true'], 'submit', '--retyr', '--retry'],
  ])('%j: an unknown flag with the nearest one; exit 2', (args, command, typo, meant) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`emr-gateway ${command}: unknown flag ${typo} (did you mean ${meant}?)\nRun 'emr-gateway ${command} --help' for usage.\n`);
  });

  it('submit --retry-interval, --retry-backoff or --retry-on without --retry, or --retry that is no number: a usage error, exit 2', () => {
    const submit = (...flags: string[]) => cli('submit', '--endpoint', 'http://127.0.0.1:9', '--cluster', 'j-1', '--role', 'arn:aws:iam::123456789012:role/R', '--name', 'n', ...flags, '--', 'true');
    expect(submit('--retry-interval', '5')).toMatchObject({ code: 2, stderr: expect.stringContaining('emr-gateway submit: --retry-interval goes with --retry N (the attempts in all)') as unknown });
    expect(submit('--retry-on', 'FAILED', '--retry-backoff', '2')).toMatchObject({ code: 2, stderr: expect.stringContaining('--retry-backoff, --retry-on go with --retry N') as unknown });
    expect(submit('--retry', 'thrice')).toMatchObject({ code: 2, stderr: expect.stringContaining('--retry takes a number, not "thrice"') as unknown });
  });

  it('an unknown flag nothing resembles: named, without a suggestion', () => {
    const r = cli('list', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("emr-gateway list: unknown flag --frobnicate\nRun 'emr-gateway list --help' for usage.\n");
  });
});
