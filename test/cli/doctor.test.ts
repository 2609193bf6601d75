/** `emr-gateway doctor` as a command: its usage errors (exit 2), its help, and no AWS to talk to (exit 1). */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { EXAMPLE, ROOT, cli } from '../support/cli';

describe('emr-gateway doctor: usage', () => {
  it.each([
    [['doctor'], /--config is required/],
    [['doctor', '--config', EXAMPLE, '--cluster', 'j-NOTCONFIGURED'], /cluster j-NOTCONFIGURED is not in .*example\.yaml \(clusters: j-2AXXXXXXGAPLF, j-1LEGACYNORUNTIME, j-3BXXXXXXPARTNR\)/],
    [['doctor', '--config', EXAMPLE, '--output', 'yaml'], /--output must be json or table, not "yaml"/],
    [['doctor', '--config', EXAMPLE, '--aws-endpoint', 'localhost:4566'], /--aws-endpoint must be an http\(s\) URL|--aws-endpoint \(or AWS_ENDPOINT_URL\) must be a URL/],
    [['doctor', '--config', EXAMPLE, '--stage', 'Prod'], /--stage must be/],
    [['doctor', '--config', EXAMPLE, '--submiter-role', 'x'], /unknown flag --submiter-role \(did you mean --submitter-role\?\)/],
    [['doctor', '--config', resolve(ROOT, 'no/such/file.yaml')], /cannot read the file/],
  ])('%j: exit 2, saying what is wrong', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help names every check and the JSON shape; the global help lists doctor', () => {
    const r = cli('doctor', '--help');
    expect(r.code).toBe(0);
    for (const check of ['release', 'applications', 'single-primary', 'security-configuration', 'source-identity', 'instance-profile-permissions', 'trust-policy', 'trust-external-id', 'submitter-catalogue', 'submitter-exactly']) {
      expect(r.stdout).toContain(check);
    }
    expect(r.stdout).toMatch(/findings: \[\{check, cluster, resource/);
    expect(cli('--help').stdout).toMatch(/emr-gateway doctor --config FILE/);
  });

  it('no AWS at the endpoint: exit 1, saying which call failed and how doctor finds credentials', () => {
    const env = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_ACCESS_KEY_ID: 'AKIALOCALDOCTOR00000', AWS_SECRET_ACCESS_KEY: 'x', AWS_CONFIG_FILE: '/nonexistent/c', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/c', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    // Port 9 (discard) on loopback: nothing listens there.
    const r = spawnSync(process.execPath, [resolve(ROOT, 'bin/emr-gateway.js'), 'doctor', '--config', EXAMPLE], { encoding: 'utf8', cwd: ROOT, timeout: 60_000, env: { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/emr-gateway doctor: cannot read the caller \(sts:GetCallerIdentity\): /);
    expect(r.stderr).toMatch(/standard AWS credential chain .* at http:\/\/127\.0\.0\.1:9/);
  });
});
