/** Writes docs/openapi.json from the schemas (`npm run openapi`); a test fails when the committed file is stale. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { version } from '../package.json';
import { openApiDocument } from '../src/http/openapi';

const file = resolve(__dirname, '../docs/openapi.json');
writeFileSync(file, `${JSON.stringify(openApiDocument(version), null, 2)}\n`);
console.log(`wrote ${file}`);
