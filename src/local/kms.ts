/**
 * The local KMS (JSON 1.1, `X-Amz-Target: TrentService.<Op>`), for the audit trail: HMAC keys for the events'
 * MACs (GenerateMac, VerifyMac) and elliptic-curve signing keys for the digests of the chain heads (Sign,
 * Verify, GetPublicKey; RAW messages: Node's crypto cannot sign a precomputed digest), with CreateKey and
 * DescribeKey, AWS's shapes (blobs base64, times in epoch seconds) and errors (NotFoundException,
 * DisabledException, InvalidKeyUsageException, KMSInvalidMacException, KMSInvalidSignatureException,
 * ValidationException, ...). Keys, their material included, are kept in DATA_DIR/kms/keys.json (mode 0600,
 * in a 0700 directory) and survive a restart; `ensureKey` creates the stack's audit key at the first start and
 * finds it by its alias afterwards. Like the rest of the AWS port, it checks no credentials and enforces no
 * key policy: on this machine the key protects the trail from whoever can write the tables, not from the user.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual, verify } from 'node:crypto';
import { join } from 'node:path';
import { LocalServiceError } from './errors';
import { privateDir, readPrivateJson, writePrivateJson } from './private-store';

/** KMS's HMAC key specs: the MAC algorithm each supports, its digest and its key length in bytes. */
const HMAC_SPECS = {
  HMAC_224: { algorithm: 'HMAC_SHA_224', digest: 'sha224', bytes: 28 },
  HMAC_256: { algorithm: 'HMAC_SHA_256', digest: 'sha256', bytes: 32 },
  HMAC_384: { algorithm: 'HMAC_SHA_384', digest: 'sha384', bytes: 48 },
  HMAC_512: { algorithm: 'HMAC_SHA_512', digest: 'sha512', bytes: 64 },
} as const;
type HmacSpec = keyof typeof HMAC_SPECS;
const MAC_ALGORITHMS = Object.values(HMAC_SPECS).map((s) => s.algorithm);
const isHmacSpec = (value: unknown): value is HmacSpec => typeof value === 'string' && Object.hasOwn(HMAC_SPECS, value);

/** KMS's NIST elliptic-curve signing key specs: the curve, and the one ECDSA algorithm KMS allows with each. */
const SIGN_SPECS = {
  ECC_NIST_P256: { curve: 'prime256v1', algorithm: 'ECDSA_SHA_256', digest: 'sha256' },
  ECC_NIST_P384: { curve: 'secp384r1', algorithm: 'ECDSA_SHA_384', digest: 'sha384' },
} as const;
type SignSpec = keyof typeof SIGN_SPECS;
const SIGNING_ALGORITHMS = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256', 'ED25519_SHA_512', 'ED25519_PH_SHA_512'];
const isSignSpec = (value: unknown): value is SignSpec => typeof value === 'string' && Object.hasOwn(SIGN_SPECS, value);

interface StoredKey {
  keyId: string;
  arn: string;
  keySpec: HmacSpec | SignSpec;
  description: string;
  /** Epoch seconds. */
  created: number;
  enabled: boolean;
  /** The HMAC key, or a signing key's private key (PKCS#8 DER), base64. */
  material: string;
}

interface KeyStore {
  version: 1;
  keys: StoredKey[];
  /** alias/NAME → key id. */
  aliases: Record<string, string>;
}

export interface LocalKmsOptions {
  dataDir: string;
  partition: string;
  region: string;
  account: string;
}

type Input = Record<string, unknown>;

const invalid = (message: string): LocalServiceError => new LocalServiceError('ValidationException', `1 validation error detected: ${message}`);
/** A member's value as a message quotes it. */
const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'null');

/** A required string member, with KMS's length limits. */
function stringMember(input: Input, name: string, member: string, max: number, required = true): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (required) throw invalid(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof value !== 'string') throw new LocalServiceError('SerializationException', `${name} must be a string`);
  if (value.length < (required ? 1 : 0) || value.length > max) {
    throw invalid(`Value at '${member}' failed to satisfy constraint: Member must have length ${value.length > max ? `less than or equal to ${max}` : 'greater than or equal to 1'}`);
  }
  return value;
}

/** A required blob member (base64 on the wire), with KMS's length limits in bytes. */
function blobMember(input: Input, name: string, member: string, max: number): Buffer {
  const value = input[name];
  if (value === undefined || value === null) throw invalid(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new LocalServiceError('SerializationException', `${name} is not valid base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < 1 || bytes.length > max) {
    throw invalid(`Value at '${member}' failed to satisfy constraint: Member must have length ${bytes.length > max ? `less than or equal to ${max}` : 'greater than or equal to 1'}`);
  }
  return bytes;
}

const usageOf = (spec: HmacSpec | SignSpec): 'GENERATE_VERIFY_MAC' | 'SIGN_VERIFY' => (isHmacSpec(spec) ? 'GENERATE_VERIFY_MAC' : 'SIGN_VERIFY');

export class LocalKms {
  private readonly dir: string;
  private readonly file: string;
  private store: KeyStore;

  constructor(private readonly options: LocalKmsOptions) {
    this.dir = privateDir(join(options.dataDir, 'kms'));
    this.file = join(this.dir, 'keys.json');
    this.store = this.load() ?? { version: 1, keys: [], aliases: {} };
  }

  /** The key behind `alias` (alias/NAME), created with that alias (an HMAC_256 key unless told) if there is none yet. Returns its ARN. */
  ensureKey(alias: string, description: string, keySpec: HmacSpec | SignSpec = 'HMAC_256'): string {
    const existing = this.store.aliases[alias];
    const key = existing ? this.store.keys.find((k) => k.keyId === existing) : undefined;
    if (key) {
      if (key.keySpec !== keySpec) throw new Error(`the local KMS key ${alias} is a ${key.keySpec} key, not ${keySpec}: move ${this.file} away to start with new keys`);
      return key.arn;
    }
    const created = this.newKey(keySpec, description);
    this.store = { ...this.store, keys: [...this.store.keys, created], aliases: { ...this.store.aliases, [alias]: created.keyId } };
    this.save();
    return created.arn;
  }

  createKey(input: Input): unknown {
    const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    if (!isHmacSpec(spec) && !isSignSpec(spec)) {
      throw new LocalServiceError('UnsupportedOperationException', `KeySpec ${shown(spec)} is not supported by the local KMS: it holds HMAC keys (${Object.keys(HMAC_SPECS).join(', ')}) and signing keys (${Object.keys(SIGN_SPECS).join(', ')})`);
    }
    const usage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
    const expected = usageOf(spec);
    if (usage !== expected) throw new LocalServiceError('ValidationException', `KeyUsage ${shown(usage)} is not compatible with KeySpec ${spec}: ${spec} keys are ${expected}`);
    if (input.Origin !== undefined && input.Origin !== 'AWS_KMS') throw new LocalServiceError('UnsupportedOperationException', `Origin ${shown(input.Origin)} is not supported by the local KMS`);
    if (input.MultiRegion === true) throw new LocalServiceError('UnsupportedOperationException', 'multi-Region keys are not supported by the local KMS');
    const description = stringMember(input, 'Description', 'description', 8192, false) ?? '';
    const key = this.newKey(spec, description);
    this.store = { ...this.store, keys: [...this.store.keys, key] };
    this.save();
    return { KeyMetadata: this.metadata(key) };
  }

  describeKey(input: Input): unknown {
    return { KeyMetadata: this.metadata(this.resolve(stringMember(input, 'KeyId', 'keyId', 2048)!)) };
  }

  generateMac(input: Input): unknown {
    const { key, algorithm, message } = this.macRequest(input);
    this.dryRun(input);
    return { Mac: this.mac(key, message).toString('base64'), MacAlgorithm: algorithm, KeyId: key.arn };
  }

  verifyMac(input: Input): unknown {
    const { key, algorithm, message } = this.macRequest(input);
    const mac = blobMember(input, 'Mac', 'mac', 6144);
    this.dryRun(input);
    const expected = this.mac(key, message);
    // KMS answers a MAC that does not verify with an error, never with MacValid: false.
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw new LocalServiceError('KMSInvalidMacException', 'The MAC is not valid for this message and KMS key');
    return { KeyId: key.arn, MacValid: true, MacAlgorithm: algorithm };
  }

  sign(input: Input): unknown {
    const { key, algorithm, message } = this.signRequest(input);
    this.dryRun(input);
    const signature = sign(SIGN_SPECS[key.keySpec as SignSpec].digest, message, this.privateKey(key));
    return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm };
  }

  verify(input: Input): unknown {
    const { key, algorithm, message } = this.signRequest(input);
    const signature = blobMember(input, 'Signature', 'signature', 6144);
    this.dryRun(input);
    const valid = verify(SIGN_SPECS[key.keySpec as SignSpec].digest, message, createPublicKey(this.privateKey(key)), signature);
    // Like VerifyMac: a signature that does not verify is an error, never SignatureValid: false.
    if (!valid) throw new LocalServiceError('KMSInvalidSignatureException', 'The signature is not valid for this message and KMS key');
    return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
  }

  getPublicKey(input: Input): unknown {
    const key = this.resolve(stringMember(input, 'KeyId', 'keyId', 2048)!);
    if (!key.enabled) throw new LocalServiceError('DisabledException', `${key.arn} is disabled.`);
    if (!isSignSpec(key.keySpec)) throw new LocalServiceError('UnsupportedOperationException', `${key.arn} is a symmetric ${key.keySpec} key: it has no public key`);
    const publicKey = createPublicKey(this.privateKey(key)).export({ type: 'spki', format: 'der' });
    return { KeyId: key.arn, PublicKey: publicKey.toString('base64'), CustomerMasterKeySpec: key.keySpec, KeySpec: key.keySpec, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: [SIGN_SPECS[key.keySpec].algorithm] };
  }

  private signRequest(input: Input): { key: StoredKey; algorithm: string; message: Buffer } {
    const message = blobMember(input, 'Message', 'message', 4096);
    const keyId = stringMember(input, 'KeyId', 'keyId', 2048)!;
    const algorithm = input.SigningAlgorithm;
    if (algorithm === undefined || algorithm === null) throw invalid("Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null");
    if (typeof algorithm !== 'string' || !SIGNING_ALGORITHMS.includes(algorithm)) {
      throw invalid(`Value '${shown(algorithm)}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [${SIGNING_ALGORITHMS.join(', ')}]`);
    }
    const messageType = input.MessageType ?? 'RAW';
    if (messageType === 'DIGEST' || messageType === 'EXTERNAL_MU') throw new LocalServiceError('UnsupportedOperationException', `MessageType ${messageType} is not supported by the local KMS: send the message itself (RAW)`);
    if (messageType !== 'RAW') throw invalid(`Value '${shown(messageType)}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]`);
    const key = this.resolve(keyId);
    if (!key.enabled) throw new LocalServiceError('DisabledException', `${key.arn} is disabled.`);
    if (!isSignSpec(key.keySpec)) throw new LocalServiceError('InvalidKeyUsageException', `${key.arn} key usage is GENERATE_VERIFY_MAC which is not valid for signing.`);
    if (SIGN_SPECS[key.keySpec].algorithm !== algorithm) throw new LocalServiceError('InvalidKeyUsageException', `${key.arn} (${key.keySpec}) does not support the ${algorithm} signing algorithm`);
    return { key, algorithm, message };
  }

  private privateKey(key: StoredKey) {
    return createPrivateKey({ key: Buffer.from(key.material, 'base64'), format: 'der', type: 'pkcs8' });
  }

  private macRequest(input: Input): { key: StoredKey; algorithm: string; message: Buffer } {
    const message = blobMember(input, 'Message', 'message', 4096);
    const keyId = stringMember(input, 'KeyId', 'keyId', 2048)!;
    const algorithm = input.MacAlgorithm;
    if (algorithm === undefined || algorithm === null) throw invalid("Value null at 'macAlgorithm' failed to satisfy constraint: Member must not be null");
    if (typeof algorithm !== 'string' || !(MAC_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw invalid(`Value '${shown(algorithm)}' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [${MAC_ALGORITHMS.join(', ')}]`);
    }
    const key = this.resolve(keyId);
    if (!key.enabled) throw new LocalServiceError('DisabledException', `${key.arn} is disabled.`);
    if (!isHmacSpec(key.keySpec)) throw new LocalServiceError('InvalidKeyUsageException', `${key.arn} key usage is SIGN_VERIFY which is not valid for GenerateMac or VerifyMac.`);
    if (HMAC_SPECS[key.keySpec].algorithm !== algorithm) {
      throw new LocalServiceError('InvalidKeyUsageException', `${key.arn} (${key.keySpec}) does not support the ${algorithm} MAC algorithm`);
    }
    return { key, algorithm, message };
  }

  private dryRun(input: Input): void {
    if (input.DryRun === true) throw new LocalServiceError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.', 412);
  }

  private mac(key: StoredKey, message: Buffer): Buffer {
    return createHmac(HMAC_SPECS[key.keySpec as HmacSpec].digest, Buffer.from(key.material, 'base64')).update(message).digest();
  }

  /** A key by id, key ARN, alias name (alias/NAME) or alias ARN, as KMS accepts them. */
  private resolve(keyId: string): StoredKey {
    const { partition, region, account } = this.options;
    const prefix = `arn:${partition}:kms:${region}:${account}:`;
    const alias = keyId.startsWith('alias/') ? keyId : keyId.startsWith(`${prefix}alias/`) ? keyId.slice(prefix.length) : undefined;
    if (alias !== undefined) {
      const target = this.store.aliases[alias];
      const key = target ? this.store.keys.find((k) => k.keyId === target) : undefined;
      if (!key) throw new LocalServiceError('NotFoundException', `Alias ${prefix}${alias} is not found.`);
      return key;
    }
    const key = this.store.keys.find((k) => k.keyId === keyId || k.arn === keyId);
    if (!key) throw new LocalServiceError('NotFoundException', `Key '${keyId.startsWith('arn:') ? keyId : `${prefix}key/${keyId}`}' does not exist`);
    return key;
  }

  private newKey(keySpec: HmacSpec | SignSpec, description: string): StoredKey {
    const { partition, region, account } = this.options;
    const keyId = randomUUID();
    return {
      keyId,
      arn: `arn:${partition}:kms:${region}:${account}:key/${keyId}`,
      keySpec,
      description,
      created: Math.floor(Date.now() / 1000),
      enabled: true,
      material: isHmacSpec(keySpec)
        ? randomBytes(HMAC_SPECS[keySpec].bytes).toString('base64')
        : generateKeyPairSync('ec', { namedCurve: SIGN_SPECS[keySpec].curve }).privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    };
  }

  private metadata(key: StoredKey): Record<string, unknown> {
    return {
      AWSAccountId: this.options.account,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: key.created,
      Enabled: key.enabled,
      Description: key.description,
      KeyUsage: usageOf(key.keySpec),
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      ...(isHmacSpec(key.keySpec) ? { MacAlgorithms: [HMAC_SPECS[key.keySpec].algorithm] } : { SigningAlgorithms: [SIGN_SPECS[key.keySpec].algorithm] }),
      MultiRegion: false,
    };
  }

  private load(): KeyStore | undefined {
    const parsed = readPrivateJson(this.file) as Partial<KeyStore> | null | undefined;
    if (parsed === undefined) return undefined;
    const keys = parsed?.keys;
    if (parsed?.version !== 1 || !Array.isArray(keys) || !keys.every((k) => (isHmacSpec(k.keySpec) || isSignSpec(k.keySpec)) && typeof k.material === 'string') || !parsed.aliases || typeof parsed.aliases !== 'object') {
      throw new Error(`${this.file} is not a local KMS key store (version 1): move it away to start with new keys`);
    }
    return { version: 1, keys, aliases: parsed.aliases };
  }

  /** Written whole, then renamed over the old file: a crash never leaves half a key store. */
  private save(): void {
    writePrivateJson(this.file, this.store);
  }
}
