/**
 * Review of serverless.yml (issue 10): what would stop the deployed template from deploying, read from the file
 * itself (no packaging needed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const serverless = parse(readFileSync(join(__dirname, '../../serverless.yml'), 'utf8')) as { functions: Record<string, Record<string, unknown>> };

it('review: no function reserves concurrency (a new account\'s limit of 10 leaves none to reserve: the deploy fails)', () => {
  // Lambda keeps at least 10 units unreserved ("Specified ReservedConcurrentExecutions for function decreases
  // account's UnreservedConcurrentExecution below its minimum value of [10]"), and new accounts start at 10. The
  // digester needs no reservation: every write is a conditional create, so two runs cannot both write a number.
  const reserving = Object.entries(serverless.functions).filter(([, f]) => f.reservedConcurrency !== undefined).map(([name]) => name);
  expect(reserving).toEqual([]);
});
