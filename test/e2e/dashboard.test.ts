/**
 * The dashboard (issue 17) in real headless Chromium against the local stack, started as a user starts it
 * (`emr-gateway dashboard --port 0`, signing as alice): jobs submitted through the API appear and finish in the
 * table without a reload; a job's page shows its timeline, its step's log and its audit chain verified in the
 * browser; a running job is cancelled through the confirmation dialog; "may I?" shows a denial with its reasons and
 * the nearest statements. And it is not a hole: a request without the token, of a foreign Host or Origin, or a page
 * of another site driving the user's browser at it, is refused. A screenshot of each page is written to
 * test-artifacts/dashboard/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(180_000);

const CHROMIUM = '/usr/bin/chromium';
const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const ARTIFACTS = resolve(__dirname, '../../test-artifacts/dashboard');
const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const ANALYST = 'arn:aws:iam::123456789012:role/AnalystReadOnly';
const available = existsSync(CHROMIUM) && existsSync(join(__dirname, '../../dist/dashboard/app.js'));
if (!available) {
  // Visible in the run's output: the browser tests did not run, and why.
  console.warn(`dashboard browser tests skipped: ${existsSync(CHROMIUM) ? 'dist/dashboard is not built (npm run build)' : `${CHROMIUM} is absent (apt-get install chromium)`}`);
}
const describeWithBrowser = available ? describe : describe.skip;

interface Started {
  child: ChildProcess;
  url: string;
  port: number;
}

/** `emr-gateway dashboard --port 0 --output json` as alice, with no AWS configuration of the machine's; its URL. */
function startDashboardCli(stack: LocalStack): Promise<Started> {
  const env = {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    AWS_ACCESS_KEY_ID: KEYS.alice.accessKeyId,
    AWS_SECRET_ACCESS_KEY: KEYS.alice.secretAccessKey,
    AWS_REGION: stack.region,
    EMR_GATEWAY_ENDPOINT: stack.apiUrl,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const child = spawn(process.execPath, [BIN, 'dashboard', '--port', '0', '--output', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        const { url, port } = JSON.parse(out) as { url: string; port: number };
        done({ child, url, port });
      } catch {
        // not all of it yet
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => fail(new Error(`emr-gateway dashboard exited ${code}: ${err}`)));
  });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request exactly as given (node:http sends our Host and Origin as set; a browser would not). */
function send(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describeWithBrowser('the dashboard in Chromium, against the local stack', () => {
  let stack: LocalStack;
  let alice: GatewayClient;
  let dashboard: Started;
  let browser: Browser;
  let page: Page;
  let token: string;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack(newDataDir(), { inMemory: true });
    alice = clientFor(stack, 'alice');
    dashboard = await startDashboardCli(stack);
    token = new URL(dashboard.url).searchParams.get('token')!;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    // A busy CI machine (two cores, other suites' stacks beside this one) answers slowly, not wrongly.
    page.setDefaultTimeout(60_000);
    // Chromium logs every 4xx answer as an error ("Failed to load resource"): a log not uploaded yet is a 404 the page expects.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    dashboard?.child.kill('SIGINT');
    await stack?.stop();
  });

  /**
   * A test of the page: when it fails, its error says what the page showed then (a refusal in an error box, a form
   * still empty), and a screenshot of it is kept, so a failure on a loaded CI machine can be read afterwards.
   */
  const it = (name: string, test: () => Promise<void>) =>
    global.it(name, async () => {
      try {
        await test();
      } catch (error) {
        const shown = await page
          .locator('main')
          .innerText({ timeout: 2_000 })
          .catch((e: unknown) => `(unreadable: ${(e as Error).message.split('\n')[0]})`);
        await page.screenshot({ path: join(ARTIFACTS, `failed-${name.replace(/[^\w-]+/g, '-').slice(0, 60)}.png`), fullPage: true }).catch(() => undefined);
        if (error instanceof Error) error.message += `\n\nThe page (${page.url()}) showed:\n${shown}`;
        throw error;
      }
    });

  const submit = (name: string, args: string[]) => alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name, step: { type: 'command', args } });
  const row = (jobId: string) => page.locator(`tr[data-job-id="${jobId}"]`);

  it("opens with the printed URL: the token moves into the tab's sessionStorage and out of the address (no cookie: cookies ignore ports)", async () => {
    await page.goto(dashboard.url);
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(await page.context().cookies()).toEqual([]);
  });

  let quick: string;
  let slow: string;
  let failing: string;
  it('jobs submitted through the API appear in the table and finish there, without a reload', async () => {
    quick = (await submit('dashboard-quick', ['bash', '-c', 'echo hello from the step; echo line two'])).jobId;
    failing = (await submit('dashboard-failing', ['bash', '-c', 'echo about to fail >&2; exit 3'])).jobId;
    await row(quick).waitFor({ timeout: 15_000 });
    await row(failing).waitFor();
    await finished(alice, quick);
    await finished(alice, failing);
    await row(quick).getByText('COMPLETED').waitFor({ timeout: 10_000 });
    await row(failing).getByText('FAILED').waitFor({ timeout: 10_000 });
    await page.getByRole('list', { name: 'Jobs by state' }).getByText('COMPLETED').waitFor();
    await page.getByRole('img', { name: /Jobs ended per/ }).waitFor();
    expect(await row(quick).textContent()).toContain('CallerTeamRoleETL');
    await shot('jobs');
  });

  it("a job's page: its timeline, its step's log, its audit chain verified in the browser", async () => {
    await row(quick).getByRole('link', { name: 'dashboard-quick' }).click();
    const timeline = page.getByRole('list', { name: 'What happened, in order' });
    await timeline.locator('.what', { hasText: 'Completed' }).waitFor();
    const phases = await timeline.locator('.what').allTextContents();
    // EMR's PENDING and RUNNING are there as the workflow saw them (a step this short may pass one unseen).
    expect([phases[0], phases[1], phases[phases.length - 1]]).toEqual(['Accepted', 'Submitted', 'Completed']);
    await page.getByLabel("The step's stdout").getByText('hello from the step').waitFor({ timeout: 15_000 });
    const badge = page.getByRole('status', { name: 'Audit chain intact' });
    await badge.waitFor();
    expect(await badge.textContent()).toMatch(/Intact.*every link and hash checked in this browser/);
    await page.getByRole('button', { name: 'Rerun' }).waitFor();
    await shot('job');

    await page.goto(`${new URL(dashboard.url).origin}/#/jobs/${failing}`);
    await page.getByRole('region', { name: 'Why it failed' }).waitFor();
    await page.getByLabel("The step's stdout").waitFor();
    await page.getByLabel('Stream').selectOption('stderr');
    await page.getByLabel("The step's stderr").getByText('about to fail').waitFor({ timeout: 15_000 });
    await shot('job-failed');
  });

  it('shows the chain Broken, saying where, once someone who can write the table edits an event', async () => {
    // Whoever can write the audit table (the local AWS port takes any key) changes event 1: its hash no longer matches.
    const dynamo = new DynamoDBClient({ endpoint: stack.awsUrl, region: stack.region, credentials: KEYS.bob });
    await dynamo.send(
      new UpdateItemCommand({
        TableName: 'emr-gateway-audit',
        Key: { jobId: { S: failing }, seq: { N: '1' } },
        UpdateExpression: 'SET #at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': { S: '2020-01-01T00:00:00.000Z' } },
      }),
    );
    dynamo.destroy();
    // The page is still on that job: its trail is read again, and checked, on asking.
    expect(new URL(page.url()).hash).toBe(`#/jobs/${failing}`);
    await page.getByRole('button', { name: 'Check again' }).click();
    const badge = page.getByRole('status', { name: 'Audit chain broken' });
    await badge.waitFor();
    expect(await badge.textContent()).toMatch(/Broken.*this browser: event 1 was modified after it was written/);
    expect(await badge.textContent()).toMatch(/the gateway: event 1 was modified/);
    await shot('job-broken');
  });

  it('cancels a running job through the confirmation dialog', async () => {
    slow = (await submit('dashboard-slow', ['sleep', '120'])).jobId;
    await until(async () => ((await alice.getJob(slow)).status === 'RUNNING' ? true : undefined), 30_000);
    await page.goto(`${new URL(dashboard.url).origin}/#/jobs/${slow}`);
    await page.locator('h1').getByText('RUNNING').waitFor();
    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
    await dialog.waitFor();
    await shot('job-cancel-dialog');
    await dialog.getByRole('button', { name: 'Cancel the job' }).click();
    await page.locator('h1').getByText('CANCELLED').waitFor({ timeout: 30_000 });
    expect((await alice.getJob(slow)).status).toBe('CANCELLED');
    await page.getByRole('list', { name: 'What happened, in order' }).getByText('Cancel requested').waitFor();
    await shot('job-cancelled');
  });

  it("reruns a template's job from its page with a parameter changed (an Idempotency-Key per confirmation)", async () => {
    const put = await fetch(stack.awsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: JSON.stringify({ Entries: [{ Source: 'com.example.pipeline', DetailType: 'Partition Ready', Detail: JSON.stringify({ table: 'orders_eu', day: '2026-11-28' }) }] }),
    });
    expect(put.status).toBe(200);
    const fired = await until(async () => (await alice.listJobs()).jobs.find((j) => j.name === 'compact orders_eu 2026-11-28'), 30_000);
    await finished(alice, fired.jobId);
    await page.goto(`${new URL(dashboard.url).origin}/#/jobs/${fired.jobId}`);
    await page.getByRole('button', { name: 'Rerun' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rerun this job?' });
    const day = dialog.getByLabel('day');
    expect(await day.inputValue()).toBe('2026-11-28');
    await day.fill('2026-11-29');
    await shot('job-rerun-dialog');
    await dialog.getByRole('button', { name: 'Rerun', exact: true }).click();
    await page.locator('h1').getByText('compact orders_eu 2026-11-29').waitFor({ timeout: 15_000 });
    const rerunId = new URL(page.url()).hash.replace('#/jobs/', '');
    expect(await alice.getJob(rerunId)).toMatchObject({ rerunOf: fired.jobId, template: { name: 'compact-partition', parameters: { table: 'orders_eu', day: '2026-11-29' } } });
    expect((await alice.getJob(fired.jobId)).reruns).toEqual([rerunId]);
  });

  it('roles: the runtime roles alice may use, and why', async () => {
    await page.getByRole('link', { name: 'Roles', exact: true }).click();
    const cluster = page.getByRole('region', { name: CLUSTER });
    await cluster.getByText('CallerTeamRoleETL').waitFor();
    expect(await cluster.textContent()).toMatch(/allowed by team-a statement 0 \(Sid SubmitAsTeamRoles\)/);
    expect(await cluster.textContent()).not.toContain('CallerTeamRoleAdmin');
    await shot('roles');
  });

  it('"may I?": a denial with its reason and the nearest statements', async () => {
    await page.getByRole('link', { name: 'May I?' }).click();
    await page.getByLabel('Runtime role').fill(ANALYST);
    await page.getByLabel('Step type').selectOption('hive');
    await page.getByRole('button', { name: 'Ask' }).click();
    const answer = page.getByRole('region', { name: 'The decision' });
    await answer.getByText('Denied', { exact: true }).waitFor();
    expect(await answer.textContent()).toMatch(/implicitly denied/);
    const near = page.locator('table.near-misses');
    expect(await near.textContent()).toMatch(/team-a statement 0 \(Sid SubmitAsTeamRoles\).*StringLike elasticmapreduce:ExecutionRoleArn/);
    await shot('may-i-denied');
    // The explicit Deny of the admin roles names its statement.
    await page.getByLabel('Runtime role').fill('arn:aws:iam::123456789012:role/CallerTeamRoleAdmin');
    await page.getByRole('button', { name: 'Ask' }).click();
    await answer.getByText('Denied (explicitly)').waitFor();
    expect(await answer.textContent()).toMatch(/NeverAsAdmin/);
  });

  it('"may I?": what is typed at once stays (a busy browser runs the new page\'s effects late; the CI flake of stops 27 and 28)', async () => {
    await page.goto(`${dashboard.url}#/jobs`);
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    // The page is drawn, and the role typed, before Preact's effects of that first drawing have run: a user (or a
    // test driver) quicker than a loaded renderer's next frame.
    // (A script's text: the test's TypeScript has no DOM types.)
    const typedBeforeEffects = await page.evaluate(`(async () => {
      window.location.hash = '#/may-i';
      let input = null;
      while (!(input = document.querySelector('input[list="known-roles"]'))) await new Promise((r) => setTimeout(r, 0));
      input.value = ${JSON.stringify(ANALYST)};
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return true;
    })()`);
    expect(typedBeforeEffects).toBe(true);
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 200)))');
    expect(await page.getByLabel('Runtime role').inputValue()).toBe(ANALYST);
  });

  it('"may I?": what is typed stays when the clusters arrive late (a slow or retried GET /roles)', async () => {
    // The page opens before its clusters are known: the user types a role and picks a step type, then GET /roles answers.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const rolesAsked = new Promise<void>((r) => (asked = r));
    await page.route('**/api/roles', async (route) => {
      asked();
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${dashboard.url}#/may-i`);
      await rolesAsked;
      await page.getByLabel('Runtime role').fill(ANALYST);
      await page.getByLabel('Step type').selectOption('hive');
      release();
      await page.getByLabel(/^Cluster/).locator('option', { hasText: CLUSTER }).waitFor({ state: 'attached' });
      // The page's effects of that render have run (Preact runs them after the next frame).
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))');
      expect(await page.getByLabel('Runtime role').inputValue()).toBe(ANALYST);
      expect(await page.getByLabel('Step type').inputValue()).toBe('hive');
      // The empty cluster choice took the first cluster; Ask asks about what was typed.
      expect(await page.getByLabel(/^Cluster/).inputValue()).toBe(CLUSTER);
      await page.getByRole('button', { name: 'Ask' }).click();
      await page.getByRole('region', { name: 'The decision' }).getByText('Denied', { exact: true }).waitFor();
      const question = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
      expect(Object.fromEntries(question)).toEqual({ clusterId: CLUSTER, executionRoleArn: ANALYST, stepType: 'hive' });
    } finally {
      release();
      await page.unroute('**/api/roles');
    }
  });

  it('queues and usage, where the API offers them', async () => {
    await page.getByRole('link', { name: 'Queues' }).click();
    await page.getByRole('region', { name: 'Capacity' }).getByText(/of \d+ active/).waitFor();
    await shot('queues');
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('region', { name: /jobs ended/ }).getByText(/DataTeamA/).waitFor();
    await shot('usage');
    expect(consoleErrors).toEqual([]);
  });

  it('refuses a request without the token, with a foreign Host or Origin; every answer carries a strict CSP', async () => {
    const host = `127.0.0.1:${dashboard.port}`;
    const cookie = `emr-gateway-dashboard-${dashboard.port}=${token}`;
    const ok = await send(dashboard.port, '/api/jobs', { host, 'x-dashboard-token': token });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
    const refused = [
      await send(dashboard.port, '/api/jobs', { host }),
      // The token in a cookie (any request of a page on another port of 127.0.0.1 would carry one) is no token.
      await send(dashboard.port, '/api/jobs', { host, cookie }),
      await send(dashboard.port, '/dashboard.json', { host }),
      await send(dashboard.port, '/api/jobs', { host, 'x-dashboard-token': 'wrong' }),
      await send(dashboard.port, '/api/jobs', { host: `rebound.example:${dashboard.port}`, 'x-dashboard-token': token }),
      await send(dashboard.port, '/api/jobs', { host, 'x-dashboard-token': token, origin: 'https://evil.example' }),
      await send(dashboard.port, `/api/jobs/${quick}/rerun`, { host, 'x-dashboard-token': token }, 'POST'),
      await send(dashboard.port, '/api/jobs', { host, 'x-dashboard-token': token }, 'OPTIONS'),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 403, 403, 403, 403]);
    for (const r of refused) expect(r.headers['access-control-allow-origin']).toBeUndefined();
    // Only the gateway's routes the page needs: no POST /jobs, no session credentials.
    expect((await send(dashboard.port, '/api/jobs', { host, 'x-dashboard-token': token, origin: `http://${host}` }, 'POST')).status).toBe(405);
    expect((await send(dashboard.port, '/api/sessions', { host, 'x-dashboard-token': token, origin: `http://${host}` }, 'POST')).status).toBe(405);
    // The page and its code hold no secret: served without the token (still only to this Host, of no other site).
    expect((await send(dashboard.port, '/', { host })).status).toBe(200);
  });

  it("a page of another site, in the user's own browser (the dashboard open in it), can neither read through the dashboard nor cancel", async () => {
    const victim = (await submit('dashboard-victim', ['sleep', '60'])).jobId;
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>evil</title><p>evil</p>');
    });
    await new Promise<void>((ok) => evil.listen(0, '127.0.0.1', ok));
    try {
      const other = await page.context().newPage();
      await other.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      const target = new URL(dashboard.url).origin;
      const outcome = await other.evaluate(
        async ({ target, victim }) => {
          const read = await fetch(`${target}/api/jobs`, { credentials: 'include' }).then((r) => `read ${r.status}`, (e: Error) => `read blocked: ${e.name}`);
          await fetch(`${target}/api/jobs/${victim}`, { method: 'DELETE', mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
          return read;
        },
        { target, victim },
      );
      expect(outcome).toMatch(/^read blocked/);
      await other.close();
      await new Promise((r) => setTimeout(r, 1500));
      expect((await alice.getJob(victim)).status).not.toMatch(/CANCEL/);
    } finally {
      evil.close();
      await alice.cancel(victim).catch(() => undefined);
    }
  });
});
