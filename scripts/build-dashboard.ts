/**
 * The dashboard's web app (src/dashboard/web) bundled into dist/dashboard/app.js and app.css with esbuild:
 * minified, no CDN, nothing loaded from anywhere but the dashboard's own server. The audit chain's checks are the
 * gateway's own code (src/audit/chain.ts), with node:crypto's SHA-256 served by a browser shim.
 */
import { build, type Plugin } from 'esbuild';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..');

/** The SDK, zod (the API's schemas: the page takes their types only), YAML, and every server-side layer. */
const NOT_IN_THE_BROWSER = /(^|\/)node_modules\/(@aws-sdk|zod|yaml|@middy|@aws-lambda-powertools)\/|^src\/(adapters|composition|handlers|http|local|config-file|cli|client|config)\//;

const nodeCryptoInBrowser: Plugin = {
  name: 'node-crypto-in-browser',
  setup(b) {
    b.onResolve({ filter: /^(node:)?crypto$/ }, () => ({ path: resolve(root, 'src/dashboard/web/node-crypto.ts') }));
  },
};

async function main(): Promise<void> {
  const result = await build({
    entryPoints: { app: resolve(root, 'src/dashboard/web/main.tsx') },
    outdir: resolve(root, 'dist/dashboard'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome115', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [nodeCryptoInBrowser],
  });
  // The browser gets no server code: what reaches the bundle from src/ and node_modules is checked here.
  const strays = Object.keys(result.metafile.inputs).filter((input) => NOT_IN_THE_BROWSER.test(input));
  if (strays.length) throw new Error(`the dashboard's browser bundle must not hold server code; it reached:\n  ${strays.join('\n  ')}\n(import what the page needs from a module without dependencies, as src/jobs/statuses.ts)`);
  const outputs = Object.entries(result.metafile.outputs).map(([file, o]) => `${file.replace(/^.*dist\//, 'dist/')} ${(o.bytes / 1024).toFixed(1)} KB`);
  if (process.argv.includes('--verbose')) console.log(outputs.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
