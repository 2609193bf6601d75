#!/usr/bin/env node
// The CLI is bundled by esbuild into dist/ (`npm run build`, run by `npm ci` through the prepare script).
'use strict';
let cli;
try {
  cli = require('../dist/cli.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    process.stderr.write('emr-gateway: dist/cli.js is missing; run `npm run build` first.\n');
    process.exit(70);
  }
  throw error;
}
cli.run();
