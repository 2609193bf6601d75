/** The signed digests of the audit chains' heads: their store (S3) and signer (KMS), the digester and the verifier. */
import type { AwsClients } from '../adapters/clients';
import { KmsDigestSigner } from '../adapters/kms/digest-signer';
import { S3DigestStore } from '../adapters/s3/digest-store';
import { s3Client } from '../adapters/sdk-clients/s3';
import { AuditDigester, DigestVerifier } from '../audit/digester';
import { lambdaCore, type Core } from './core';

export interface Digests {
  store: S3DigestStore;
  signer: KmsDigestSigner;
  verifier: DigestVerifier;
}

export function createDigests({ env, kms }: Core, s3: AwsClients['s3']): Digests {
  const store = new S3DigestStore(s3, env.digestBucket);
  const signer = new KmsDigestSigner(kms, env.digestKeyId);
  return { store, signer, verifier: new DigestVerifier(store, signer) };
}

export const createDigester = ({ jobs }: Core, { store, signer }: Digests): AuditDigester => new AuditDigester({ heads: jobs, store, signer });

let digests: Digests | undefined;

export const lambdaDigests = (): Digests => (digests ??= createDigests(lambdaCore(), s3Client(lambdaCore().target)));
/** A digester (one per run). */
export const lambdaDigester = (): AuditDigester => createDigester(lambdaCore(), lambdaDigests());
