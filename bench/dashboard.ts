/**
 * The dashboard (`npx tsx bench/dashboard.ts [JOBS]`, default 300): what its pass-through adds to a call (GET /jobs,
 * 100 jobs a page, through the dashboard's server vs the signed client straight to the gateway, side by side), the
 * size of what the browser loads, and in Debian's Chromium (where it is) how long the jobs page takes to show the
 * newest 300 jobs, from navigation to the filled table (median of 5 loads).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GatewayClient } from '../src/client';
import { TOKEN_HEADER } from '../src/dashboard/guard';
import { startDashboard } from '../src/dashboard/server';
import { KEYS, newDataDir, startStack } from '../test/support/local-stack';
import { median, percentile } from './stats';

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const CHROMIUM = '/usr/bin/chromium';
const RUNS = 30;

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function timed(runs: number, call: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call();
    out.push(performance.now() - started);
  }
  return out.sort((a, b) => a - b);
}

export async function main(args: readonly string[] = []): Promise<void> {
  const jobs = Number(args[0] ?? 300);
  const stack = await startStack(newDataDir(), { inMemory: true });
  const alice = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: KEYS.alice });
  const dashboard = await startDashboard({ client: new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: KEYS.alice, retry: false }), endpoint: stack.apiUrl, port: 0 });
  try {
    process.stdout.write(`submitting ${jobs} jobs`);
    for (let i = 0; i < jobs; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, jobs - i) }, (_, k) => alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: `bench-${i + k}`, step: { type: 'command', args: ['true'] } }, { idempotencyKey: `bench-dashboard-${i + k}` })),
      );
      process.stdout.write('.');
    }
    console.log(' done');

    const origin = `http://127.0.0.1:${dashboard.port}`;
    const headers = { [TOKEN_HEADER]: dashboard.token };
    const direct = await timed(RUNS, () => alice.listJobs({ limit: 100 }));
    const through = await timed(RUNS, async () => {
      const response = await fetch(`${origin}/api/jobs?limit=100`, { headers });
      if (!response.ok) throw new Error(`the dashboard answered ${response.status}`);
      await response.text();
    });
    const p = (sorted: number[]) => `p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}`;
    console.log(`\nGET /jobs?limit=100 (${RUNS} runs each), ${jobs} jobs in the table:`);
    console.log(`  signed client to the gateway:      ${p(direct)}`);
    console.log(`  through the dashboard's server:    ${p(through)}`);
    console.log(`  the pass-through adds:             ${ms(percentile(through, 50) - percentile(direct, 50))} at p50 (x${(percentile(through, 50) / percentile(direct, 50)).toFixed(2)})`);

    const assets = join(__dirname, '../dist/dashboard');
    for (const file of ['app.js', 'app.css']) {
      const path = join(assets, file);
      if (!existsSync(path)) {
        console.log(`  ${file}: not built (npm run build)`);
        continue;
      }
      const bytes = readFileSync(path);
      console.log(`  ${file}: ${(bytes.length / 1024).toFixed(1)} KB minified, ${(gzipSync(bytes).length / 1024).toFixed(1)} KB gzipped`);
    }

    if (!existsSync(CHROMIUM)) {
      console.log(`page load: skipped (${CHROMIUM} is absent)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      await page.goto(dashboard.url); // the token into the tab's sessionStorage, once
      const shown = Math.min(jobs, 300);
      const loads: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await page.goto(`${origin}/?load=${i}#/jobs`); // a new document each time (a hash change alone would not load it)
        // (A locator, not waitForFunction: the page's CSP refuses the eval that a predicate needs.)
        await page.locator('tr[data-job-id]').nth(shown - 1).waitFor({ timeout: 60_000 });
        loads.push(performance.now() - started);
      }
      console.log(`jobs page, navigation to a table of ${shown} jobs (3 pages of GET /jobs): median ${ms(median(loads))} of 5 (${loads.map((l) => l.toFixed(0)).join(', ')} ms)`);
    } finally {
      await browser.close();
    }
  } finally {
    await dashboard.close();
    await stack.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
