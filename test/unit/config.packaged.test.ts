/**
 * A deployed function loads the JSON that packaging wrote after the whole validation (config/packaged.ts): its schema
 * is checked again, and nothing else is recompiled in every function. The functions that put event values into
 * templates check the templates again (composition/triggers.ts), so a packaged configuration edited to let one into
 * a script is refused there as validation refuses it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Core } from '../../src/composition/core';
import { createTriggers } from '../../src/composition/triggers';
import { loadConfigFile } from '../../src/config-file/load';
import { loadPackagedConfig } from '../../src/config/packaged';
import { deployableConfig } from '../../src/config/validate';
import { ConfigError } from '../../src/errors';
import type { AuditLog } from '../../src/jobs/ports';
import type { JobService } from '../../src/jobs/service';
import { thrown } from '../support/thrown';

const EXAMPLE = resolve(__dirname, '../../config/example.yaml');
const FIXTURE = resolve(__dirname, '../package/fixtures/gateway.yaml');

describe('the packaged configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'emr-gateway-packaged-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const packaged = (data: unknown, name = 'gateway.json'): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(data));
    return file;
  };
  const issuesOf = (error: unknown): string[] => {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  };

  it.each([['the example', EXAMPLE], ['the package fixture (a policy file, a schedule, a trigger)', FIXTURE]])('loads as the validation gave it: %s', (_name, source) => {
    const deployable = deployableConfig(loadConfigFile(source).config);
    const file = packaged(deployable);
    expect(loadPackagedConfig(file)).toEqual({ ...deployable, file });
  });

  it('refuses what its schema refuses, naming the path: a wrong type, an unknown key, a missing field', () => {
    const deployable = deployableConfig(loadConfigFile(EXAMPLE).config) as unknown as Record<string, unknown>;
    expect(issuesOf(thrown(() => loadPackagedConfig(packaged({ ...deployable, clusters: 'j-1' }))))).toEqual([expect.stringMatching(/^clusters: .*expected array/)]);
    expect(issuesOf(thrown(() => loadPackagedConfig(packaged({ ...deployable, planted: true }))))).toEqual(['planted: unknown key: planted']);
    const { account: _account, ...withoutAccount } = deployable;
    expect(issuesOf(thrown(() => loadPackagedConfig(packaged(withoutAccount))))).toEqual(['account: is required']);
    expect(issuesOf(thrown(() => loadPackagedConfig(join(dir, 'missing.json'))))).toEqual([expect.stringMatching(/^: cannot read it as JSON: ENOENT/)]);
  });

  it('has its policies inline: a `file:` reference is refused (it is not a package output)', () => {
    const deployable = deployableConfig(loadConfigFile(EXAMPLE).config);
    const policies = { ...deployable.policies, outside: { file: '/etc/passwd' } };
    expect(issuesOf(thrown(() => loadPackagedConfig(packaged({ ...deployable, policies }))))).toEqual([
      'policies.outside.file: a packaged configuration has its policies inline (package it with npm run package)',
    ]);
  });

  it('the trigger functions refuse templates that let an event value into a script, as validation does', () => {
    const deployable = deployableConfig(loadConfigFile(FIXTURE).config);
    const [trigger] = deployable.triggers;
    if (!trigger) throw new Error('the fixture has a trigger');
    const [param] = Object.keys(trigger.params);
    if (!param) throw new Error("the fixture's trigger reads a parameter from its event");
    const template = deployable.templates[trigger.template]!;
    // The packaged file edited after packaging: the event's value now lands in bash -c, undeclared.
    const edited = {
      ...deployable,
      templates: { ...deployable.templates, [trigger.template]: { ...template, parameters: {}, step: { type: 'command', args: ['bash', '-c', `echo \${${param}}`] } } },
    };
    const config = loadPackagedConfig(packaged(edited));
    const core = { config } as Core;
    const never = {} as JobService & AuditLog;
    expect(issuesOf(thrown(() => createTriggers(core, never, never)))).toEqual([
      expect.stringMatching(new RegExp(`^templates\\.${trigger.template}\\.step\\.args\\[2\\]: \\$\\{${param}\\} is read from the event by triggers\\[0\\]`)),
    ]);
    // Unedited, it loads.
    expect(createTriggers({ config: loadPackagedConfig(packaged(deployable)) } as Core, never, never)).toBeDefined();
  });
});
