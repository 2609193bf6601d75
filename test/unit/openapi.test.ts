import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { version } from '../../package.json';
import { openApiDocument } from '../../src/http/openapi';
import { ROUTES } from '../../src/http/routes';

const committed = JSON.parse(readFileSync(resolve(__dirname, '../../docs/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

describe('docs/openapi.json', () => {
  it('is what the schemas generate (run `npm run openapi` after changing them)', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument(version))));
  });
  it('describes every route the API serves, and no other', () => {
    const documented = Object.entries(committed.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });
  it('the request body schema is the validator itself: its fields and limits', () => {
    const request = committed.components.schemas.JobRequest!;
    expect(Object.keys(request.properties ?? {})).toEqual(['clusterId', 'executionRoleArn', 'name', 'step', 'actionOnFailure', 'timeoutSeconds', 'retry', 'priority', 'tags', 'notify']);
    expect(JSON.stringify(request)).toContain('"maximum":604800');
    const retry = (request.properties as Record<string, { properties?: Record<string, { minimum?: number; maximum?: number }>; additionalProperties?: boolean }>).retry!;
    expect(retry.properties?.maxAttempts).toMatchObject({ minimum: 1, maximum: 10 });
    expect(retry.properties?.intervalSeconds).toMatchObject({ minimum: 1, maximum: 3600 });
    expect(retry.additionalProperties).toBe(false);
    expect(Object.keys(committed.components.schemas.Job?.properties ?? {})).toEqual(expect.arrayContaining(['retry', 'attempt', 'attempts', 'nextAttemptAt']));
  });
});
