/**
 * S3's flexible checksums (`x-amz-checksum-<algorithm>`, base64 of the big-endian digest): CRC32 (zlib's),
 * CRC32C (Castagnoli), CRC64NVME (the NVMe CRC-64, reflected, polynomial 0x9a6c9329ac4bc9b5), SHA1 and SHA256,
 * the algorithms the AWS SDKs and the AWS CLI compute. S3 gives an object uploaded without one a CRC64NVME.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export const isChecksumAlgorithm = (value: string): value is ChecksumAlgorithm => (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);

/** The header (and trailer) that carries an algorithm's checksum. */
export const checksumHeader = (algorithm: ChecksumAlgorithm): string => `x-amz-checksum-${algorithm.toLowerCase()}`;

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32c(data: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) crc = (crc >>> 8) ^ CRC32C_TABLE[(crc ^ byte) & 0xff]!;
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out;
}

/** The CRC-64/NVME table as two 32-bit halves (BigInt per byte would be slow for a 16 MB object). */
const CRC64_TABLE = (() => {
  const high = new Uint32Array(256);
  const low = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let j = 0; j < 8; j++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
    high[i] = Number(crc >> 32n);
    low[i] = Number(crc & 0xffffffffn);
  }
  return { high, low };
})();

function crc64nvme(data: Buffer): Buffer {
  let high = 0xffffffff;
  let low = 0xffffffff;
  for (const byte of data) {
    const index = (low ^ byte) & 0xff;
    low = (((low >>> 8) | (high << 24)) ^ CRC64_TABLE.low[index]!) >>> 0;
    high = ((high >>> 8) ^ CRC64_TABLE.high[index]!) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((high ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((low ^ 0xffffffff) >>> 0, 4);
  return out;
}

/** The checksum of `data` as S3 writes it: base64 of the digest. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  switch (algorithm) {
    case 'CRC32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(data) >>> 0);
      return out.toString('base64');
    }
    case 'CRC32C':
      return crc32c(data).toString('base64');
    case 'CRC64NVME':
      return crc64nvme(data).toString('base64');
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
  }
}
