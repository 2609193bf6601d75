/**
 * A trail verified with its MACs: each event's MAC is checked with the audit key (through the AuditSealer
 * port: KMS VerifyMac in AWS), then the pure chain checks run with those answers.
 */
import { macMessage, verifyChain, type AuditEvent, type VerifyOptions, type VerifyResult } from './chain';
import type { AuditSealer } from './ports';
import { eachLimited } from '../util/concurrency';

/** Few enough concurrent VerifyMac calls per trail to stay far from KMS's request quota. */
const CONCURRENCY = 8;

export async function verifyTrail(sealer: AuditSealer, chainId: string, events: readonly AuditEvent[], options: Omit<VerifyOptions, 'macs'> = {}): Promise<VerifyResult> {
  const macs: boolean[] = new Array<boolean>(events.length).fill(false);
  await eachLimited(events, CONCURRENCY, async (e, i) => {
    // An unsealed event fails the pure checks anyway: no call for it.
    if (typeof e.mac === 'string' && e.mac && typeof e.keyId === 'string' && e.keyId) macs[i] = await sealer.verify(macMessage(e.hash), e.mac, e.keyId);
  });
  return verifyChain(chainId, events, { ...options, macs });
}
