#!/usr/bin/env node
// The CLI is bundled by esbuild into dist/ (`npm run build`, run by `npm ci` through the prepare script).
'use strict';
// The AWS SDK prints a NodeVersionSupportWarning on Node < 22 in every process that makes a client; the
// README says which versions are supported. Silenced the SDK's documented way, unless the user chose.
if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
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
