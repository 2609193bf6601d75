/** The local stack for end-to-end tests: free loopback ports, a fresh data directory, the example config. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GatewayClient } from '../../src/client';
import { startLocalStack, type LocalStack } from '../../src/local/stack';

export const EXAMPLE = resolve(__dirname, '../../config/example.yaml');
export const KEYS = {
  alice: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' },
  bob: { accessKeyId: 'AKIALOCALBOB00000002', secretAccessKey: 'local-bob-secret' },
  carol: { accessKeyId: 'AKIALOCALCAROL000003', secretAccessKey: 'local-carol-secret' },
};

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'emr-gateway-e2e-'));
}

export function startStack(dataDir: string, extra: Partial<Parameters<typeof startLocalStack>[0]> = {}): Promise<LocalStack> {
  return startLocalStack({
    configFile: EXAMPLE,
    port: 0,
    awsPort: 0,
    dataDir,
    polling: { initialSeconds: 1, factor: 1, maxSeconds: 1 },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
    ...extra,
  });
}

export function clientFor(stack: LocalStack, who: keyof typeof KEYS): GatewayClient {
  return new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: KEYS[who] });
}

/** Polls a job until it is terminal (the local EMR is real time). */
export async function finished(client: GatewayClient, jobId: string, timeoutMs = 30_000): Promise<Awaited<ReturnType<GatewayClient['getJob']>>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.getJob(jobId);
    if (['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED', 'TIMED_OUT', 'REJECTED'].includes(job.status)) return job;
    if (Date.now() > end) throw new Error(`${jobId} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
