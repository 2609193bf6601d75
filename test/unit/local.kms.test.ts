/**
 * The local KMS (src/local/kms.ts) as a class, with its wire shapes (base64 blobs, epoch-second times) and
 * AWS's errors; the key store in the data directory (0600, reused after a restart). Over HTTP, with the SDK
 * and the AWS CLI: e2e/local-stack.test.ts and e2e/aws-cli.test.ts.
 */
import { createHmac, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalServiceError } from '../../src/local/errors';
import { LocalKms } from '../../src/local/kms';

const PLACE = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

let dataDir: string;
let kms: LocalKms;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-kms-'));
  kms = new LocalKms({ dataDir, ...PLACE });
});

/** The LocalServiceError `call` throws. */
function errorOf(call: () => unknown): LocalServiceError {
  try {
    call();
  } catch (error) {
    if (error instanceof LocalServiceError) return error;
    throw error;
  }
  throw new Error('expected a LocalServiceError');
}

describe('the audit key: created once, kept in the data directory, private', () => {
  it('ensureKey creates an HMAC_256 key under its alias; a second stack on the same directory finds the same key', () => {
    const arn = kms.ensureKey('alias/emr-gateway-audit', 'audit');
    expect(arn).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
    expect(kms.ensureKey('alias/emr-gateway-audit', 'audit')).toBe(arn);
    const mac = (k: LocalKms) => (k.generateMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256' }) as { Mac: string }).Mac;
    const restarted = new LocalKms({ dataDir, ...PLACE });
    expect(restarted.ensureKey('alias/emr-gateway-audit', 'audit')).toBe(arn);
    expect(mac(restarted)).toBe(mac(kms));
    expect(statSync(join(dataDir, 'kms', 'keys.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'kms')).mode & 0o777).toBe(0o700);
  });

  it('a key store that is not one is an error naming the file, not a new key', () => {
    writeFileSync(join(dataDir, 'kms', 'keys.json'), '{"version": 2}');
    expect(() => new LocalKms({ dataDir, ...PLACE })).toThrow(/keys\.json is not a local KMS key store/);
  });
});

describe('operations, with AWS shapes and errors', () => {
  let arn: string;
  beforeEach(() => {
    arn = kms.ensureKey('alias/emr-gateway-audit', 'audit');
  });

  it('GenerateMac is HMAC-SHA-256 of the message with the key; VerifyMac accepts it and throws KMSInvalidMacException otherwise', () => {
    const material = Buffer.from((JSON.parse(readFileSync(join(dataDir, 'kms', 'keys.json'), 'utf8')) as { keys: { material: string }[] }).keys[0]!.material, 'base64');
    expect(material).toHaveLength(32);
    const out = kms.generateMac({ KeyId: arn, Message: b64('hello'), MacAlgorithm: 'HMAC_SHA_256' });
    expect(out).toEqual({ Mac: createHmac('sha256', material).update('hello').digest('base64'), MacAlgorithm: 'HMAC_SHA_256', KeyId: arn });
    const { Mac } = out as { Mac: string };
    expect(kms.verifyMac({ KeyId: arn, Message: b64('hello'), Mac, MacAlgorithm: 'HMAC_SHA_256' })).toEqual({ KeyId: arn, MacValid: true, MacAlgorithm: 'HMAC_SHA_256' });
    expect(errorOf(() => kms.verifyMac({ KeyId: arn, Message: b64('hellO'), Mac, MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'KMSInvalidMacException', status: 400 });
    expect(errorOf(() => kms.verifyMac({ KeyId: arn, Message: b64('hello'), Mac: b64('short'), MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'KMSInvalidMacException' });
  });

  it('finds a key by id, ARN, alias name and alias ARN; NotFoundException otherwise', () => {
    const keyId = arn.split('/').pop()!;
    for (const id of [keyId, arn, 'alias/emr-gateway-audit', 'arn:aws:kms:us-east-1:123456789012:alias/emr-gateway-audit']) {
      expect(kms.describeKey({ KeyId: id })).toMatchObject({ KeyMetadata: { KeyId: keyId, Arn: arn } });
    }
    expect(errorOf(() => kms.describeKey({ KeyId: 'alias/nope' }))).toMatchObject({ type: 'NotFoundException', message: 'Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found.' });
    expect(errorOf(() => kms.describeKey({ KeyId: '00000000-0000-4000-8000-000000000000' }))).toMatchObject({ type: 'NotFoundException', message: expect.stringMatching(/^Key 'arn:aws:kms:.*' does not exist$/) });
  });

  it('DescribeKey: KeyMetadata as KMS describes an HMAC key (CreationDate in epoch seconds)', () => {
    const { KeyMetadata } = kms.describeKey({ KeyId: arn }) as { KeyMetadata: Record<string, unknown> };
    expect(KeyMetadata).toMatchObject({
      AWSAccountId: '123456789012', Arn: arn, Enabled: true, KeyState: 'Enabled', KeyUsage: 'GENERATE_VERIFY_MAC', KeySpec: 'HMAC_256',
      CustomerMasterKeySpec: 'HMAC_256', MacAlgorithms: ['HMAC_SHA_256'], Origin: 'AWS_KMS', KeyManager: 'CUSTOMER', MultiRegion: false, Description: 'audit',
    });
    expect(KeyMetadata.CreationDate).toBeCloseTo(Date.now() / 1000, -2);
  });

  it('the MAC algorithm must be the key spec\'s (InvalidKeyUsageException) and one of KMS\'s (ValidationException)', () => {
    expect(errorOf(() => kms.generateMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_512' }))).toMatchObject({ type: 'InvalidKeyUsageException' });
    expect(errorOf(() => kms.generateMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'MD5' }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/macAlgorithm.*enum value set/) });
  });

  it('required members and KMS\'s length limits: ValidationException; a blob that is not base64: SerializationException', () => {
    expect(errorOf(() => kms.generateMac({ Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/'keyId'.*must not be null/) });
    expect(errorOf(() => kms.generateMac({ KeyId: arn, MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/'message'/) });
    expect(errorOf(() => kms.generateMac({ KeyId: arn, Message: b64(Buffer.alloc(4097)), MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/less than or equal to 4096/) });
    expect(kms.generateMac({ KeyId: arn, Message: b64(Buffer.alloc(4096)), MacAlgorithm: 'HMAC_SHA_256' })).toHaveProperty('Mac');
    expect(errorOf(() => kms.generateMac({ KeyId: arn, Message: 'not base64!', MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'SerializationException' });
    expect(errorOf(() => kms.verifyMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/'mac'/) });
  });

  it('a disabled key: DisabledException; DryRun: DryRunOperationException', () => {
    const file = join(dataDir, 'kms', 'keys.json');
    const store = JSON.parse(readFileSync(file, 'utf8')) as { keys: { enabled: boolean }[] };
    store.keys[0]!.enabled = false;
    writeFileSync(file, JSON.stringify(store));
    const disabled = new LocalKms({ dataDir, ...PLACE });
    expect(errorOf(() => disabled.generateMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ type: 'DisabledException', message: `${arn} is disabled.` });
    expect(disabled.describeKey({ KeyId: arn })).toMatchObject({ KeyMetadata: { Enabled: false, KeyState: 'Disabled' } });
    expect(errorOf(() => kms.generateMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256', DryRun: true }))).toMatchObject({ type: 'DryRunOperationException', status: 412 });
  });

  it('CreateKey: HMAC keys with GENERATE_VERIFY_MAC only, persisted', () => {
    const { KeyMetadata } = kms.createKey({ KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'd' }) as { KeyMetadata: { Arn: string; MacAlgorithms: string[] } };
    expect(KeyMetadata.MacAlgorithms).toEqual(['HMAC_SHA_512']);
    expect(new LocalKms({ dataDir, ...PLACE }).describeKey({ KeyId: KeyMetadata.Arn })).toMatchObject({ KeyMetadata: { KeySpec: 'HMAC_512' } });
    expect(errorOf(() => kms.createKey({}))).toMatchObject({ type: 'UnsupportedOperationException' });
    expect(errorOf(() => kms.createKey({ KeySpec: 'HMAC_256' }))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/GENERATE_VERIFY_MAC/) });
    expect(errorOf(() => kms.createKey({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Origin: 'EXTERNAL' }))).toMatchObject({ type: 'UnsupportedOperationException' });
  });
});

describe('signing keys (the digests of the chain heads): ECDSA over NIST curves, verifiable with the public key alone', () => {
  let arn: string;
  beforeEach(() => {
    arn = kms.ensureKey('alias/emr-gateway-audit-digests', 'digests', 'ECC_NIST_P256');
  });

  it('Sign makes an ECDSA_SHA_256 signature that Node verifies with the DER public key from GetPublicKey, and Verify accepts', () => {
    const message = b64('digest 7 of the chain heads');
    const signed = kms.sign({ KeyId: arn, Message: message, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW' }) as { KeyId: string; Signature: string; SigningAlgorithm: string };
    expect(signed).toEqual({ KeyId: arn, Signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/), SigningAlgorithm: 'ECDSA_SHA_256' });
    const pub = kms.getPublicKey({ KeyId: 'alias/emr-gateway-audit-digests' }) as Record<string, unknown>;
    expect(pub).toMatchObject({ KeyId: arn, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
    const publicKey = createPublicKey({ key: Buffer.from(pub.PublicKey as string, 'base64'), format: 'der', type: 'spki' });
    expect(cryptoVerify('sha256', Buffer.from(message, 'base64'), publicKey, Buffer.from(signed.Signature, 'base64'))).toBe(true);
    expect(kms.verify({ KeyId: arn, Message: message, Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })).toEqual({ KeyId: arn, SignatureValid: true, SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(errorOf(() => kms.verify({ KeyId: arn, Message: b64('another digest'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })).type).toBe('KMSInvalidSignatureException');
  });

  it('DescribeKey reports SIGN_VERIFY and the signing algorithm; the key survives a restart', () => {
    expect((kms.describeKey({ KeyId: arn }) as { KeyMetadata: Record<string, unknown> }).KeyMetadata).toMatchObject({ KeyUsage: 'SIGN_VERIFY', KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'] });
    expect((kms.describeKey({ KeyId: arn }) as { KeyMetadata: Record<string, unknown> }).KeyMetadata.MacAlgorithms).toBeUndefined();
    const signed = kms.sign({ KeyId: arn, Message: b64('m'), SigningAlgorithm: 'ECDSA_SHA_256' }) as { Signature: string };
    const restarted = new LocalKms({ dataDir, ...PLACE });
    expect(restarted.ensureKey('alias/emr-gateway-audit-digests', 'digests', 'ECC_NIST_P256')).toBe(arn);
    expect(restarted.verify({ KeyId: arn, Message: b64('m'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })).toMatchObject({ SignatureValid: true });
    expect(() => restarted.ensureKey('alias/emr-gateway-audit-digests', 'digests')).toThrow(/is a ECC_NIST_P256 key, not HMAC_256/);
  });

  it('each key does only its own job, with the errors KMS answers', () => {
    const hmac = kms.ensureKey('alias/emr-gateway-audit', 'audit');
    expect(errorOf(() => kms.sign({ KeyId: hmac, Message: b64('m'), SigningAlgorithm: 'ECDSA_SHA_256' })).type).toBe('InvalidKeyUsageException');
    expect(errorOf(() => kms.generateMac({ KeyId: arn, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256' })).type).toBe('InvalidKeyUsageException');
    expect(errorOf(() => kms.getPublicKey({ KeyId: hmac })).type).toBe('UnsupportedOperationException');
    expect(errorOf(() => kms.sign({ KeyId: arn, Message: b64('m'), SigningAlgorithm: 'ECDSA_SHA_384' })).type).toBe('InvalidKeyUsageException');
    expect(errorOf(() => kms.sign({ KeyId: arn, Message: b64('m'), SigningAlgorithm: 'MD5' })).message).toMatch(/at 'signingAlgorithm' failed to satisfy constraint/);
    expect(errorOf(() => kms.sign({ KeyId: arn, Message: b64('m'), SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'DIGEST' })).type).toBe('UnsupportedOperationException');
    expect(errorOf(() => kms.sign({ KeyId: arn, Message: Buffer.alloc(4097).toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' })).message).toMatch(/less than or equal to 4096/);
    expect(errorOf(() => kms.createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'GENERATE_VERIFY_MAC' })).type).toBe('ValidationException');
    expect((kms.createKey({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' }) as { KeyMetadata: Record<string, unknown> }).KeyMetadata).toMatchObject({ SigningAlgorithms: ['ECDSA_SHA_384'] });
  });
});
