/**
 * GET /jobs's nextToken. A listing's position (the store's raw cursor, a listKey: a job's creation time and id)
 * says which jobs exist, so it leaves the gateway only sealed, and only for the caller and the listing it was
 * issued for:
 *
 *   token     = base64url( 0x01 ‖ salt (16 random bytes) ‖ AES-256-GCM ciphertext ‖ GCM tag (16 bytes) )
 *   plaintext = canonical JSON { p: position, e: expiry (epoch milliseconds, issue time + 24 h) }
 *   AAD       = "emr-step-gateway:list-token:v1" NUL canonical JSON { caller, filters }
 *   key, IV   = HKDF-SHA-256(master, salt, "emr-step-gateway:list-token:v1:aes-256-gcm"), 32 + 12 bytes
 *   master    = the audit key's HMAC (KMS GenerateMac) of LIST_TOKEN_KEY_LABEL, derived once per process
 *
 * - Opaque: the only readable byte is the version; the salt and the ciphertext are random to anyone without the
 *   key, and every token has the same length (a listKey and an expiry have fixed lengths).
 * - Tamper-proof: GCM authenticates the bytes and the AAD, so a changed byte, a cut, an extension, a token of
 *   another key, another caller (their ARN, source identity and trigger) or other filters fails the tag; the
 *   text must be the canonical base64url of its bytes, so no other spelling of the same bytes is accepted.
 * - Expiring: 24 hours after issue (inside the ciphertext, so it cannot be extended).
 * - Every refusal is the same ValidationError on `nextToken` with the same message: it tells no reason.
 * - The key: HMAC is deterministic, so every Lambda instance derives the same master from the same audit key,
 *   and only a holder of the gateway's kms:GenerateMac on it can mint tokens (writers of the jobs table cannot).
 *   The label cannot be an audit event's MAC message (those are `emr-step-gateway:audit-event:v1:HASH`, and
 *   event MACs are readable in GET /jobs/{id}/audit), so no MAC the gateway publishes is the master. A per-token
 *   key and IV from a random salt keep GCM within its limits under a master that never changes (KMS HMAC keys do
 *   not rotate). A new audit key, or a new label version, invalidates every outstanding token: a 400, list again.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { AuditSealer } from '../audit/ports';
import { IntegrityError, ValidationError } from '../errors';
import { canonicalJson } from '../util/canonical';

/** How long a nextToken can be used, from when it was issued (as many AWS list APIs' tokens). */
export const LIST_TOKEN_TTL_SECONDS = 24 * 3600;
/** What the audit key MACs to give the token key. Changing it (v2) changes the key, and refuses every older token. */
export const LIST_TOKEN_KEY_LABEL = 'emr-step-gateway:list-token-key:v1';

const VERSION = 0x01;
const PURPOSE = 'emr-step-gateway:list-token:v1';
const SALT_BYTES = 16;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + SALT_BYTES;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const REFUSED = 'is not a token of this listing: pass the nextToken of the previous page, within 24 hours, as the same caller with the same filters (the limit may change), or list again without one';

/** What a token is bound to: who lists, and the listing (every filter of the request but limit and nextToken). */
export interface ListTokenScope {
  caller: { callerArn: string; sourceIdentity?: string; trigger?: string };
  filters: Record<string, string | undefined>;
}

export class ListTokens {
  private master?: Promise<Buffer>;

  constructor(
    private readonly sealer: Pick<AuditSealer, 'seal'>,
    private readonly now: () => Date = () => new Date(),
    private readonly ttlSeconds: number = LIST_TOKEN_TTL_SECONDS,
  ) {}

  /** The nextToken for `position` (a listKey) in this scope's listing. */
  async issue(position: string, scope: ListTokenScope): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const { key, iv } = subkeys(await this.masterKey(), salt);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(scope));
    const plaintext = canonicalJson({ p: position, e: this.now().getTime() + this.ttlSeconds * 1000 });
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), salt, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The position a token holds, if this gateway issued it for this scope less than 24 hours ago; else the one 400. */
  async open(token: string, scope: ListTokenScope): Promise<string> {
    const bytes = BASE64URL.test(token) ? Buffer.from(token, 'base64url') : undefined;
    // Malformed tokens are refused before the key is needed; one spelling of the bytes only.
    if (!bytes || bytes.toString('base64url') !== token || bytes.length <= HEADER_BYTES + TAG_BYTES || bytes[0] !== VERSION) throw refused();
    const { key, iv } = subkeys(await this.masterKey(), bytes.subarray(1, HEADER_BYTES));
    let body: unknown;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(scope));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
      body = JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw refused();
    }
    const { p, e } = (body ?? {}) as { p?: unknown; e?: unknown };
    if (typeof p !== 'string' || typeof e !== 'number' || this.now().getTime() > e) throw refused();
    return p;
  }

  /** Derived at the first use, then kept for the process; a failure (e.g. KMS throttling) is retried by the next request. */
  private masterKey(): Promise<Buffer> {
    this.master ??= this.derive().catch((error: unknown) => {
      this.master = undefined;
      throw error;
    });
    return this.master;
  }

  private async derive(): Promise<Buffer> {
    const { mac } = await this.sealer.seal(new TextEncoder().encode(LIST_TOKEN_KEY_LABEL));
    const master = Buffer.from(mac, 'base64');
    if (master.length < 32) throw new IntegrityError('the audit key answered a MAC too short to derive the list token key from');
    return master;
  }
}

function subkeys(master: Buffer, salt: Uint8Array): { key: Buffer; iv: Buffer } {
  const okm = Buffer.from(hkdfSync('sha256', master, salt, `${PURPOSE}:aes-256-gcm`, 32 + 12));
  return { key: okm.subarray(0, 32), iv: okm.subarray(32) };
}

function aad(scope: ListTokenScope): Buffer {
  return Buffer.from(`${PURPOSE}\0${canonicalJson({ caller: scope.caller, filters: scope.filters })}`, 'utf8');
}

const refused = (): ValidationError => ValidationError.single('nextToken', REFUSED);
