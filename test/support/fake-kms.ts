/**
 * KMS mocked with aws-sdk-client-mock (every KMSClient instance), answered by the local stack's KMS
 * (src/local/kms.ts) in a temporary directory: for tests that run the deployed functions' container against
 * dynalite alone. Blobs cross as base64, as on the wire; the local KMS's errors come back as SDK errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GenerateMacCommand,
  GetPublicKeyCommand,
  KMSClient,
  KMSServiceException,
  SignCommand,
  VerifyMacCommand,
  type GenerateMacCommandInput,
  type GetPublicKeyCommandInput,
  type SignCommandInput,
  type VerifyMacCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { LocalServiceError } from '../../src/local/errors';
import { LocalKms } from '../../src/local/kms';

const base64 = (bytes: Uint8Array | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('base64') : undefined);

export class FakeKms {
  readonly mock = mockClient(KMSClient);
  readonly local: LocalKms;
  /** The HMAC key the gateway is configured with. */
  readonly keyArn: string;
  /** The digests' signing key. */
  readonly digestKeyArn: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'gw-kms-'));

  constructor(account = '123456789012', region = 'us-east-1') {
    this.local = new LocalKms({ dataDir: this.dir, partition: 'aws', region, account });
    this.keyArn = this.local.ensureKey('alias/emr-gateway-audit', 'test audit key');
    this.mock.on(GenerateMacCommand).callsFake((input: GenerateMacCommandInput) =>
      this.answer(() => {
        const out = this.local.generateMac({ ...input, Message: base64(input.Message) }) as { Mac: string; KeyId: string; MacAlgorithm: string };
        return { ...out, Mac: Buffer.from(out.Mac, 'base64') };
      }),
    );
    this.digestKeyArn = this.local.ensureKey('alias/emr-gateway-audit-digests', 'test digest key', 'ECC_NIST_P256');
    this.mock.on(SignCommand).callsFake((input: SignCommandInput) =>
      this.answer(() => {
        const out = this.local.sign({ ...input, Message: base64(input.Message) }) as { Signature: string; KeyId: string; SigningAlgorithm: string };
        return { ...out, Signature: Buffer.from(out.Signature, 'base64') };
      }),
    );
    this.mock.on(GetPublicKeyCommand).callsFake((input: GetPublicKeyCommandInput) =>
      this.answer(() => {
        const out = this.local.getPublicKey({ ...input }) as { PublicKey: string };
        return { ...out, PublicKey: Buffer.from(out.PublicKey, 'base64') };
      }),
    );
    this.mock.on(VerifyMacCommand).callsFake((input: VerifyMacCommandInput) => this.answer(() => this.local.verifyMac({ ...input, Message: base64(input.Message), Mac: base64(input.Mac) })));
  }

  restore(): void {
    this.mock.restore();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private answer<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (!(error instanceof LocalServiceError)) throw error;
      throw new KMSServiceException({ name: error.type, message: error.message, $fault: error.status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: error.status } });
    }
  }
}
