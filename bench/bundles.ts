/**
 * Lambda bundles (`npx tsx bench/bundles.ts [--package-dir DIR] [--config FILE]`): packages the service (or reads
 * an existing `npm run package` output), then for each function prints its bundle size (the minified .js in the
 * zip), its zip size, and its cold initialisation time: the bundle `require`d by a fresh `node`, median of 5.
 * The functions' environment is the template's, so module initialisation sees what it would in Lambda. The AWS
 * SDK is not bundled (the nodejs22.x runtime has it): here it is loaded from node_modules, which is included
 * in the time. Targets (issue 14): at most 150 KB minified and at most 100 ms of cold initialisation per bundle, on
 * an idle machine; each is printed as met or not met with the figure it compares, and the load average at the time
 * (os.loadavg(), before and after the timings), since a busy machine slows every start.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';
import { parse } from 'yaml';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CfnTemplate, PackageParams } from '../scripts/cloudformation';
import { ESBUILD_PLUGINS, FUNCTIONS, packageService, PARAMS_FILE, ROOT, TEMPLATE_FILE } from '../scripts/package';
import { extractZip, functionEnvironment, functionInfo, readZip } from '../test/support/package';
import { median } from './stats';

const RUNS = 5;
const TARGET_BYTES = 150 * 1024;
const TARGET_MS = 100;

/** 'met (figure)' or 'not met (figure, over by N unit)'. */
function verdict(met: boolean, figure: string, over: number, unit: string): string {
  return met ? `met (${figure})` : `not met (${figure}, ${over.toFixed(1)} ${unit} over)`;
}

const loadAverage = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

function coldInitMs(bundle: string, cwd: string, env: Record<string, string>): number {
  const script = `const t=process.hrtime.bigint(); require(${JSON.stringify(bundle)}); console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return Number(out.toString().trim().split('\n').at(-1));
}

/**
 * Where a bundle's bytes come from: the same entry rebuilt with serverless.yml's custom.esbuild options (and the
 * generated plugins), with a metafile, grouped by package.
 */
async function breakdown(entries: string[], work: string): Promise<{ entry: string; total: number; parts: Map<string, number> }[]> {
  const options = (parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as { custom: { esbuild: Record<string, unknown> } }).custom.esbuild;
  const pluginsFile = join(work, 'esbuild-plugins.js');
  writeFileSync(pluginsFile, ESBUILD_PLUGINS);
  const plugins = ((await import(pluginsFile)) as { default: Plugin[] }).default;
  const results = [];
  for (const entry of entries) {
    const out = await build({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      write: false,
      outdir: join(work, 'breakdown'),
      metafile: true,
      minify: options.minify === true,
      keepNames: options.keepNames === true,
      target: String(options.target),
      platform: 'node',
      format: 'cjs',
      external: options.exclude as string[],
      plugins,
      logLevel: 'silent',
    });
    const parts = new Map<string, number>();
    let total = 0;
    for (const output of Object.values(out.metafile.outputs)) {
      total += output.bytes;
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? (input.startsWith('src/') || input.includes('/src/') ? 'src (the gateway)' : input);
        parts.set(pkg, (parts.get(pkg) ?? 0) + bytesInOutput);
      }
    }
    results.push({ entry, total, parts });
  }
  return results;
}

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const existing = option(argv, '--package-dir');
  const work = mkdtempSync(join(tmpdir(), 'emr-gateway-bench-bundles-'));
  try {
    let dir: string;
    let template: CfnTemplate;
    let params: PackageParams;
    if (existing) {
      dir = resolve(existing);
      template = JSON.parse(readFileSync(join(dir, TEMPLATE_FILE), 'utf8')) as CfnTemplate;
      params = JSON.parse(readFileSync(join(dir, PARAMS_FILE), 'utf8')) as PackageParams;
      console.log(`bundles of ${dir}`);
    } else {
      const config = option(argv, '--config');
      const result = await packageService({ out: join(work, '.serverless'), ...(config ? { config } : {}) });
      ({ outDir: dir, template, params } = result);
      console.log(`packaged ${result.config.file} in ${(result.durationMs / 1000).toFixed(1)} s (osls ${(result.slsDurationMs / 1000).toFixed(1)} s)`);
    }
    console.log(`cold init: require() of the bundle in a fresh node ${process.version}, median of ${RUNS}; targets: bundle <= ${TARGET_BYTES / 1024} KB, init <= ${TARGET_MS} ms`);
    const loadBefore = loadAverage();

    const header = ['function', 'handler', 'bundle KB', 'zip KB', 'init ms (median)', 'init ms (min-max)', `size <= ${TARGET_BYTES / 1024} KB`, `init <= ${TARGET_MS} ms`];
    const rows: string[][] = [];
    for (const fn of FUNCTIONS) {
      const zip = join(dir, `${fn}.zip`);
      const info = functionInfo(template, fn);
      const root = join(work, fn);
      extractZip(zip, root);
      const bundleBytes = readZip(zip).get(info.bundle)?.length ?? 0;
      const env = functionEnvironment({ template, params }, fn, root);
      const times = Array.from({ length: RUNS }, () => coldInitMs(join(root, info.bundle), root, env));
      const ms = median(times);
      const kb = bundleBytes / 1024;
      rows.push([
        fn,
        `${info.bundle}#${info.exportName}`,
        (bundleBytes / 1024).toFixed(0),
        (statSync(zip).size / 1024).toFixed(0),
        ms.toFixed(1),
        `${Math.min(...times).toFixed(0)}-${Math.max(...times).toFixed(0)}`,
        verdict(bundleBytes <= TARGET_BYTES, `${kb.toFixed(1)} KB`, kb - TARGET_BYTES / 1024, 'KB'),
        verdict(ms <= TARGET_MS, `${ms.toFixed(1)} ms`, ms - TARGET_MS, 'ms'),
      ]);
    }
    const loadAfter = loadAverage();
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i < 2 || i >= 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    for (const row of rows) console.log(line(row));
    const sizeMet = rows.filter((row) => row[6]!.startsWith('met')).length;
    const initMet = rows.filter((row) => row[7]!.startsWith('met')).length;
    console.log(`targets: size met by ${sizeMet} of ${rows.length} functions, init by ${initMet} of ${rows.length}`);
    console.log(`load average (1, 5, 15 min; ${cpus().length} CPUs): ${loadBefore} before the timings, ${loadAfter} after${loadavg()[0]! >= 1 ? ' (not idle: the init times are higher than on an idle machine)' : ''}`);

    console.log('\nwhere the minified bytes come from (KB, largest first):');
    const entries = [...new Set(FUNCTIONS.map((fn) => functionInfo(template, fn).bundle.replace(/\.js$/, '.ts')))];
    for (const { entry, total, parts } of await breakdown(entries, work)) {
      const top = [...parts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
      console.log(`  ${entry.padEnd(26)} ${(total / 1024).toFixed(0).padStart(4)} = ${top.map(([p, b]) => `${p} ${(b / 1024).toFixed(0)}`).join(', ')}${parts.size > 6 ? ', ...' : ''}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
