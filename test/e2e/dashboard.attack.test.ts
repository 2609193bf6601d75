/**
 * The dashboard (issue 17) under attack, in real headless Chromium, against a fake gateway (no local stack): what
 * another server on a loopback port of this machine learns once the user has opened the dashboard (cookies ignore
 * ports: a cookie set by 127.0.0.1:7780 goes to 127.0.0.1:ANY), and what a Spark UI link of the gateway's that is
 * not http(s) does when clicked.
 */
import { existsSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { writeLauncher } from '../../src/cli/browser';
import { GatewayClient } from '../../src/client';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';

jest.setTimeout(60_000);

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM) && existsSync(join(__dirname, '../../dist/dashboard/app.js'));
const describeWithBrowser = available ? describe : describe.skip;
const CREDENTIALS = { accessKeyId: 'AKIADASHBOARDTEST001', secretAccessKey: 'dashboard-test-secret' };

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return (server.address() as AddressInfo).port;
};

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** A job whose every field the gateway hands on holds markup (what a job's submitter, or a step's log, can put there). */
const MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
const EVIL_JOB = {
  jobId: 'job-evil',
  name: `evil ${MARKUP}`,
  status: 'FAILED',
  clusterId: 'j-2AXXXXXXGAPLF',
  executionRoleArn: `arn:aws:iam::123456789012:role/${MARKUP}`,
  stepType: 'spark',
  step: { id: `s-${MARKUP}`, state: 'FAILED' },
  caller: { principalArn: 'arn:aws:iam::123456789012:role/Caller', sourceIdentity: MARKUP },
  createdAt: '2026-12-04T10:00:00.000Z',
  updatedAt: '2026-12-04T10:05:00.000Z',
  finishedAt: '2026-12-04T10:05:00.000Z',
  failureDetails: { reason: MARKUP, message: MARKUP, logFile: MARKUP },
  stateChangeReason: { code: MARKUP, message: MARKUP },
  rerunOf: 'javascript:window.__pwned=1',
  links: { ui: '/jobs/job-evil/ui' },
};
let uiLink = '';
const reached: string[] = [];

describeWithBrowser('the dashboard under attack, in Chromium', () => {
  let gateway: Server;
  let dashboard: Dashboard;
  let browser: Browser;

  beforeAll(async () => {
    gateway = createServer((req, res) => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const url = req.url ?? '';
      reached.push(`${req.method} ${url}`);
      if (url.startsWith('/jobs/job-evil/ui')) return answer(200, { jobId: 'job-evil', stepId: 's-EVIL', url: uiLink, kind: 'persistent', ready: true });
      if (url.startsWith('/jobs/job-evil/audit')) return answer(404, { error: { code: 'NotFound', message: 'no trail here' } });
      if (url.startsWith('/jobs/job-evil')) return answer(200, EVIL_JOB);
      answer(200, url.startsWith('/jobs') ? { jobs: [] } : url.startsWith('/roles') ? { clusters: [] } : {});
    });
    const endpoint = `http://127.0.0.1:${await listen(gateway)}`;
    dashboard = await startDashboard({ client: new GatewayClient({ endpoint, credentials: CREDENTIALS, retry: false }), endpoint, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    gateway?.close();
  });

  it('another server on a loopback port the user visits afterwards does not learn the token', async () => {
    const heard: IncomingMessage['headers'][] = [];
    const other = createServer((req, res) => {
      heard.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>another local app</title><p>hello</p>');
    });
    const otherPort = await listen(other);
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(dashboard.url);
      await page.waitForSelector('header');
      // The user goes on to another local app (a dev server, a notebook, another user's server on a shared host).
      await page.goto(`http://127.0.0.1:${otherPort}/`);
      await page.reload();
      const cookies = heard.map((h) => h.cookie ?? '').join('; ');
      expect(cookies).not.toContain(dashboard.token);
      // What it could do with it: the dashboard does not care where a request comes from once Host and token are right.
      const stolen = /emr-gateway-dashboard-\d+=([\w-]+)/.exec(cookies)?.[1];
      if (stolen) {
        const used = await get(dashboard.port, '/api/jobs', { host: `127.0.0.1:${dashboard.port}`, cookie: `emr-gateway-dashboard-${dashboard.port}=${stolen}` });
        expect(used.status).not.toBe(200);
      }
      await context.close();
    } finally {
      other.close();
    }
  });

  it('the app works on the token it keeps in its own tab (no cookie): the address loses the token, a reload keeps working', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(dashboard.url);
    await page.waitForSelector('text=0 jobs');
    expect(page.url()).toBe(`http://127.0.0.1:${dashboard.port}/`);
    expect(await context.cookies()).toEqual([]);
    await page.reload();
    await page.waitForSelector('text=0 jobs');
    // A tab that never had the printed address gets the page, and a refusal saying what to open.
    const stranger = await context.newPage();
    await stranger.goto(`http://127.0.0.1:${dashboard.port}/#/jobs`);
    await stranger.waitForSelector('text=/no token/');
    await context.close();
  });

  it.each(['javascript:fetch("http://127.0.0.1:1/"+document.domain);window.__pwned=1', 'data:text/html,<script>alert(1)</script>'])(
    "markup in a job's fields shows as text, and a Spark UI link that is not http(s) (%s) is not opened",
    async (link) => {
      uiLink = link;
      const context = await browser.newContext();
      const page = await context.newPage();
      const popups: string[] = [];
      context.on('page', (p) => popups.push(p.url()));
      await page.goto(`${dashboard.url}#/jobs/job-evil`);
      await page.waitForSelector('h1');
      expect(await page.locator('h1').innerText()).toContain('<img src=x');
      expect(await page.locator('img, script:not([src])').count()).toBe(0);
      await page.click('text=Spark UI');
      await page.waitForSelector('text=/not an http\\(s\\) address/');
      await new Promise((r) => setTimeout(r, 500));
      expect(popups).toEqual([]);
      await page.click('text=javascript:window.__pwned=1');
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      await context.close();
    },
  );

  it('`dashboard --open` starts the browser on a launcher file (no token in any command line): it lands on the working page', async () => {
    const launcher = writeLauncher(dashboard.url);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(pathToFileURL(launcher.file).href);
      await page.waitForURL(`http://127.0.0.1:${dashboard.port}/`);
      await page.waitForSelector('text=0 jobs');
    } finally {
      await context.close();
      launcher.remove();
    }
  });

  it("a job id in the page's address is one path segment: #/jobs/..%2Fsessions does not become GET /sessions", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(dashboard.url);
      await page.waitForSelector('text=0 jobs');
      reached.length = 0;
      await page.goto(`http://127.0.0.1:${dashboard.port}/#/jobs/..%2Fsessions%3Fx%3D1`);
      await new Promise((r) => setTimeout(r, 1500));
      expect(reached.filter((r) => !r.startsWith('GET /roles'))).toEqual([]);
      await page.waitForSelector('text=/does not pass/');
    } finally {
      await context.close();
    }
  });
});
