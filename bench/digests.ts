/**
 * The digests of the chain heads on the local stack (`npx tsx bench/digests.ts`), through the real adapters
 * (dynalite's byUpdateHour index, the local S3, the local KMS): how long a digest takes with N jobs changed since
 * the previous one (the index) and for a first digest of N jobs (the scan), and what the rollback check adds to
 * reading a trail (GET /jobs/{id}/audit: the MAC checks alone, the anchor check alone, the whole request).
 * Figures are for reading side by side on one machine, not absolute.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { KmsDigestSigner } from '../src/adapters/kms/digest-signer';
import { S3DigestStore } from '../src/adapters/s3/digest-store';
import { AuditDigester, DigestVerifier } from '../src/audit/digester';
import { verifyTrail } from '../src/audit/verify';
import { isTerminal } from '../src/jobs/model';
import { jobRecords } from '../test/support/jobs';
import { clientFor, newDataDir, startStack } from '../test/support/local-stack';

const SIZES = [100, 1000, 5000];
const RUNS = 30;
const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

export async function main(): Promise<void> {
  const stack = await startStack(newDataDir(), { polling: { initialSeconds: 1, factor: 1, maxSeconds: 1 } });
  try {
    const { gateway } = stack;
    const signer = new KmsDigestSigner(gateway.clients.kms, stack.digestKeyArn);
    console.log('digest runs (local stack: dynalite, local S3, local KMS)');
    console.log('jobs changed | incremental digest (index) | first digest (scan) | anchors written');
    console.log('-------------|---------------------------|---------------------|----------------');
    let planted = 0;
    for (const n of SIZES) {
      await sleep(2_100); // the previous digest is older than the settle time
      const jobs = jobRecords(new Date(), n, () => ({ callerArn: ALICE, clusterId: CLUSTER, executionRoleArn: ETL })).map((j) => ({ ...j, status: 'COMPLETED' as const, auditHash: 'ab'.repeat(32) }));
      for (let i = 0; i < jobs.length; i += 50) await Promise.all(jobs.slice(i, i + 50).map((job) => gateway.jobs.create({ ...job, updatedAt: new Date().toISOString() })));
      planted += n;
      await sleep(2_100);
      let start = process.hrtime.bigint();
      const run = await gateway.digester().run();
      const incremental = ms(start);
      const bucket = `bench-first-${n}`;
      await gateway.clients.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
      start = process.hrtime.bigint();
      await new AuditDigester({ heads: gateway.jobs as never, store: new S3DigestStore(gateway.clients.s3, bucket), signer }).run();
      const first = ms(start);
      console.log(`${String(n).padStart(12)} | ${`${incremental.toFixed(0)} ms`.padStart(25)} | ${`${first.toFixed(0)} ms (${planted} jobs)`.padStart(19)} | ${run.written ? run.entries : 0}`);
    }

    // One real job, run to its end, then anchored.
    const alice = clientFor(stack, 'alice');
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'bench', step: { type: 'command', args: ['true'] } });
    while (!isTerminal((await alice.getJob(jobId)).status)) await sleep(200);
    await sleep(2_100);
    await stack.digests.run();
    const job = (await gateway.jobs.get(jobId))!;
    const events = await gateway.audit.list(jobId);
    const head = { seq: job.auditSeq, hash: job.auditHash };
    const verifier = new DigestVerifier(new S3DigestStore(gateway.clients.s3, gateway.env.digestBucket), signer);
    const timings = { macs: [] as number[], anchor: [] as number[], request: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      let start = process.hrtime.bigint();
      await verifyTrail(gateway.sealer, jobId, events, { head, firstType: 'DECISION' });
      timings.macs.push(ms(start));
      start = process.hrtime.bigint();
      const anchor = await verifier.check({ chainId: jobId, events, head });
      timings.anchor.push(ms(start));
      if (anchor.status !== 'anchored') throw new Error(`expected anchored, got ${JSON.stringify(anchor)}`);
      start = process.hrtime.bigint();
      await alice.audit(jobId);
      timings.request.push(ms(start));
    }
    console.log(`\nreading a trail of ${events.length} events (${RUNS} runs): p50 / p95`);
    console.log(`  the MAC checks (KMS VerifyMac per event)  ${p50(timings.macs).toFixed(1)} / ${p95(timings.macs).toFixed(1)} ms`);
    console.log(`  the anchor check (2 S3 lists; digest cached) ${p50(timings.anchor).toFixed(1)} / ${p95(timings.anchor).toFixed(1)} ms`);
    console.log(`  GET /jobs/{id}/audit, whole (both at once)  ${p50(timings.request).toFixed(1)} / ${p95(timings.request).toFixed(1)} ms`);
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
