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
import { chromium, type Browser } from 'playwright-core';
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
});
