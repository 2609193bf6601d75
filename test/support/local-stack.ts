/** The local stack for end-to-end tests: free loopback ports, a fresh data directory, the example config. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GatewayApiError, GatewayClient } from '../../src/client';
import { isTerminal } from '../../src/jobs/model';
import { startLocalStack, type LocalStack } from '../../src/local/stack';
import { ModelCheck } from './aws-models';
import { until as waitUntil } from './wait';

export const EXAMPLE = resolve(__dirname, '../../config/example.yaml');
export const KEYS = {
  alice: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' },
  bob: { accessKeyId: 'AKIALOCALBOB00000002', secretAccessKey: 'local-bob-secret' },
  carol: { accessKeyId: 'AKIALOCALCAROL000003', secretAccessKey: 'local-carol-secret' },
};

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'emr-gateway-e2e-'));
}

/**
 * A local stack whose every AWS response is checked against AWS's models (aws-models.ts): its stop fails, listing
 * them, if any was one AWS would not send, so each e2e file that starts one checks what it met.
 */
export async function startStack(dataDir: string, extra: Partial<Parameters<typeof startLocalStack>[0]> = {}): Promise<LocalStack> {
  const check = new ModelCheck();
  const stack = await startLocalStack({
    configFile: EXAMPLE,
    port: 0,
    awsPort: 0,
    dataDir,
    polling: { initialSeconds: 1, factor: 1, maxSeconds: 1 },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
    onAwsExchange: (exchange) => check.record(exchange),
    ...extra,
  });
  const stop = stack.stop.bind(stack);
  return Object.assign(stack, {
    stop: async () => {
      await stop();
      check.assertNone();
    },
  });
}

export function clientFor(stack: LocalStack, who: keyof typeof KEYS): GatewayClient {
  return new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: KEYS[who] });
}

/** Polls a job until it is terminal (the local EMR is real time). */
export function finished(client: GatewayClient, jobId: string, timeoutMs = 30_000): Promise<Awaited<ReturnType<GatewayClient['getJob']>>> {
  const probe = async () => {
    const job = await client.getJob(jobId);
    return isTerminal(job.status) ? job : undefined;
  };
  return waitUntil(probe, { timeoutMs, intervalMs: 200, what: `job ${jobId} finishing` });
}

/** Polls `probe` until it returns a value (the local stack works in real time). */
export function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return waitUntil(probe, { timeoutMs, intervalMs: 100 });
}

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');

/** The CLI (dist/, built) as `who` against the stack's API, with no AWS configuration of the machine's: its exit code and output. */
export function cliAs(stack: LocalStack, who: keyof typeof KEYS, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_ACCESS_KEY_ID: KEYS[who].accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS[who].secretAccessKey, AWS_REGION: stack.region, EMR_GATEWAY_ENDPOINT: stack.apiUrl, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
  return new Promise((done) => execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })));
}

/** The GatewayApiError a call must fail with (a test fails if it succeeds, or fails otherwise). */
export function apiRejection(promise: Promise<unknown>): Promise<GatewayApiError> {
  return promise.then(
    () => {
      throw new Error('expected an error');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(GatewayApiError);
      return e as GatewayApiError;
    },
  );
}
