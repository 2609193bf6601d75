/**
 * The CLI's output carries no Node warning: the AWS SDK's NodeVersionSupportWarning (printed on Node < 22 by the
 * first SDK client a process makes) is silenced the documented way (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED),
 * unless the user set that variable themselves. `local` makes every SDK client the gateway has.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { newDataDir } from '../support/local-stack';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const major = Number(process.versions.node.split('.')[0]);

async function local(extraEnv: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  const dir = newDataDir();
  const child = spawn(process.execPath, [BIN, 'local', '--port', '0', '--aws-port', '0', '--data-dir', join(dir, 'data')], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  try {
    for (let i = 0; i < 300 && !stdout.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.kill('SIGINT');
  }
  await exited;
  expect(stdout).toContain('the local stack is up');
  return { stdout, stderr };
}

it(`emr-gateway local: no NodeVersionSupportWarning nor any other Node warning on stderr (Node ${process.versions.node})`, async () => {
  const { stdout, stderr } = await local();
  expect(stderr).not.toMatch(/NodeVersionSupportWarning|\(node:\d+\) \w*Warning/);
  expect(stdout).not.toMatch(/Warning/);
});

(major < 22 ? it : it.skip)('unless asked for: AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false shows the SDK\'s warning again [Node < 22 only]', async () => {
  const { stderr } = await local({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
  expect(stderr).toMatch(/NodeVersionSupportWarning/);
});
