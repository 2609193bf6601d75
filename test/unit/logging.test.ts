/**
 * Log lines of one invocation must not carry the keys of another: a warm Lambda container serves many
 * requests with one logger. Each handler goes through Powertools' injectLambdaContext with keys reset per
 * invocation, so the second request's lines carry its own Lambda context and none of the first's keys.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler } from '../../src/http/api';
import type { JobService } from '../../src/jobs/service';
import { apiEvent } from '../support/api';
import { captureLogs, lambdaContext as context } from '../support/logs';

const JOB_ID = 'job-0123456789abcdefghjkmnpqrs';

it('the API handler resets its log keys between invocations and adds the Lambda context', async () => {
  const out = captureLogs();
  try {
    // A logger that writes JSON to stdout (the Lambda runtime's), created after the spy so it writes through it.
    const logger = new Logger({ serviceName: 'emr-step-gateway-test' });
    const service = {
      get: () => Promise.reject(Object.assign(new Error('boom'), { name: 'Boom' })),
      list: () => {
        logger.info('listing');
        return Promise.resolve({ jobs: [] });
      },
    } as unknown as JobService;
    const handler = createApiHandler(() => ({ service, openapi: () => ({}), version: 'test' }), logger);
    await handler(apiEvent('GET', `/jobs/${JOB_ID}`), context('request-one'));
    await handler(apiEvent('GET', '/jobs'), context('request-two'));
    const lines = out.lines();
    const first = lines.filter((l) => l.function_request_id === 'request-one');
    const second = lines.filter((l) => l.function_request_id === 'request-two');
    expect(first.length).toBeGreaterThan(0);
    expect(first.some((l) => l.jobId === JOB_ID)).toBe(true);
    expect(second.some((l) => l.message === 'listing')).toBe(true);
    for (const line of second) {
      expect(line).not.toHaveProperty('jobId');
      expect(line.route).toBe('GET /jobs');
    }
    expect(lines.every((l) => typeof l.function_request_id === 'string')).toBe(true);
  } finally {
    out.restore();
  }
});
