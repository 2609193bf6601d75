/**
 * The KMS adapter of the audit key (src/adapters/kms/audit-sealer.ts) against a mocked KMSClient: the requests
 * it sends (GenerateMac / VerifyMac, HMAC_SHA_256, the key by ARN), and how KMS's answers and errors become the
 * port's (a MAC of another key or a KMSInvalidMacException is false; retryable errors TransientError; an
 * unusable key AuditKeyError). Against the real wire: the local KMS in e2e/local-stack.test.ts and aws-cli.
 */
import { GenerateMacCommand, KMSClient, KMSServiceException, VerifyMacCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { KmsAuditSealer } from '../../src/adapters/kms/audit-sealer';
import { AuditKeyError, TransientError } from '../../src/errors';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e';
const OTHER_KEY = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555';
const MESSAGE = new TextEncoder().encode('emr-step-gateway:audit-event:v1:abc');
const MAC = Buffer.alloc(32, 7);

const kms = mockClient(KMSClient);
let sealer: KmsAuditSealer;
beforeEach(() => {
  kms.reset();
  sealer = new KmsAuditSealer(new KMSClient({ region: 'us-east-1' }), KEY);
});
afterAll(() => kms.restore());

const kmsError = (name: string, status = 400): KMSServiceException =>
  new KMSServiceException({ name, message: `${name} (test)`, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

describe('seal (GenerateMac)', () => {
  it('asks for HMAC_SHA_256 of the message with the audit key, and returns the MAC in base64 with the key ARN', async () => {
    kms.on(GenerateMacCommand).resolves({ Mac: MAC, KeyId: KEY, MacAlgorithm: 'HMAC_SHA_256' });
    expect(await sealer.seal(MESSAGE)).toEqual({ mac: MAC.toString('base64'), keyId: KEY });
    expect(kms.commandCalls(GenerateMacCommand)[0]!.args[0].input).toEqual({ KeyId: KEY, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' });
  });

  it.each([
    ['ThrottlingException', 400, true],
    ['KMSInternalException', 500, false],
    ['DependencyTimeoutException', 503, false],
    ['KeyUnavailableException', 500, false],
  ])('%s is a TransientError (the workflow retries it)', async (name, status, throttled) => {
    kms.on(GenerateMacCommand).rejects(kmsError(name, status));
    await expect(sealer.seal(MESSAGE)).rejects.toMatchObject({ name: 'Gateway.Transient', throttled, dependency: `KMS GenerateMac: ${name}` });
    await expect(sealer.seal(MESSAGE)).rejects.toBeInstanceOf(TransientError);
  });

  it.each(['NotFoundException', 'DisabledException', 'InvalidKeyUsageException', 'KMSInvalidStateException', 'AccessDeniedException'])(
    '%s: the audit key cannot be used, an AuditKeyError that names the key and KMS\'s error',
    async (name) => {
      kms.on(GenerateMacCommand).rejects(kmsError(name));
      await expect(sealer.seal(MESSAGE)).rejects.toThrow(AuditKeyError);
      await expect(sealer.seal(MESSAGE)).rejects.toThrow(new RegExp(`the audit key ${KEY} cannot be used \\(KMS GenerateMac: ${name}`));
    },
  );

  it('an answer without a MAC, or from another key, is not taken', async () => {
    kms.on(GenerateMacCommand).resolvesOnce({ KeyId: KEY }).resolvesOnce({ Mac: MAC, KeyId: OTHER_KEY });
    await expect(sealer.seal(MESSAGE)).rejects.toThrow(/without a MAC/);
    await expect(sealer.seal(MESSAGE)).rejects.toThrow(/without a MAC/);
  });
});

describe('verify (VerifyMac)', () => {
  it('true when KMS verifies the MAC with the audit key', async () => {
    kms.on(VerifyMacCommand).resolves({ KeyId: KEY, MacValid: true, MacAlgorithm: 'HMAC_SHA_256' });
    expect(await sealer.verify(MESSAGE, MAC.toString('base64'), KEY)).toBe(true);
    expect(kms.commandCalls(VerifyMacCommand)[0]!.args[0].input).toEqual({ KeyId: KEY, Message: MESSAGE, Mac: MAC, MacAlgorithm: 'HMAC_SHA_256' });
  });

  it("false for KMSInvalidMacException (KMS's answer to a MAC that does not verify)", async () => {
    kms.on(VerifyMacCommand).rejects(kmsError('KMSInvalidMacException'));
    expect(await sealer.verify(MESSAGE, MAC.toString('base64'), KEY)).toBe(false);
  });

  it('false without asking KMS for a MAC recorded with another key id, or not a 32-byte base64 MAC', async () => {
    expect(await sealer.verify(MESSAGE, MAC.toString('base64'), OTHER_KEY)).toBe(false);
    expect(await sealer.verify(MESSAGE, 'not base64!', KEY)).toBe(false);
    expect(await sealer.verify(MESSAGE, Buffer.alloc(16).toString('base64'), KEY)).toBe(false);
    expect(kms.commandCalls(VerifyMacCommand)).toHaveLength(0);
  });

  it('retryable errors are TransientError, an unusable key AuditKeyError', async () => {
    kms.on(VerifyMacCommand).rejectsOnce(kmsError('ThrottlingException')).rejectsOnce(kmsError('DisabledException'));
    await expect(sealer.verify(MESSAGE, MAC.toString('base64'), KEY)).rejects.toMatchObject({ name: 'Gateway.Transient', throttled: true });
    await expect(sealer.verify(MESSAGE, MAC.toString('base64'), KEY)).rejects.toThrow(AuditKeyError);
  });
});
