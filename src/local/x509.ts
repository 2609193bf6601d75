/**
 * A self-signed X.509 certificate for an RSA key, in DER built by hand (Node verifies certificates but makes none):
 * the local SNS's signing certificate, served at its SigningCertURL as SNS serves its own, so a receiver checks a
 * message's Signature exactly as against SNS (fetch the certificate, verify SHA1withRSA over the canonical string).
 */
import { createSign, type KeyObject } from 'node:crypto';

const der = (tag: number, content: Buffer): Buffer => {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
};
const seq = (...parts: Buffer[]): Buffer => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => der(0x31, Buffer.concat(parts));
/** sha256WithRSAEncryption, with its NULL parameters. */
const SHA256_WITH_RSA = seq(Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]), Buffer.from([0x05, 0x00]));
const COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);

const utcTime = (date: Date): Buffer => der(0x17, Buffer.from(date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z', 'ascii'));
const name = (cn: string): Buffer => seq(set(seq(COMMON_NAME, der(0x0c, Buffer.from(cn, 'utf8')))));

/** A PEM certificate naming `commonName`, valid from `from` for `days`, for `publicKey`, signed with `privateKey`. */
export function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, commonName: string, from: Date, days: number, serial: Buffer): string {
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([0x02]))), // v3
    der(0x02, serial[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial),
    SHA256_WITH_RSA,
    name(commonName),
    seq(utcTime(from), utcTime(new Date(from.getTime() + days * 86_400_000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = createSign('sha256').update(tbs).sign(privateKey);
  const cert = seq(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = cert.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
