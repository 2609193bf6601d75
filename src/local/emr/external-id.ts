/**
 * The ExternalId of a security configuration that enables runtime roles: EMR generates one per security
 * configuration ("Establish trust between runtime roles and Amazon EMR clusters") and DescribeSecurityConfiguration
 * returns it in ApplicationScopedIAMRoleConfiguration. The one written there is the one; a configuration that
 * has none yet gets one derived from it, of EMR's form (48 characters of base32), stable across restarts, so the
 * trust policies seeded with it keep matching.
 */
import { createHash } from 'node:crypto';
import { runtimeRoleSettings, type RuntimeRoleSettings } from '../../authz/runtime-role-setup';
import type { SecurityConfiguration } from './model';

interface IamConfiguration {
  ApplicationScopedIAMRoleConfiguration?: Record<string, unknown>;
}

/** Read once per configuration record (a change is a new record): steps and describes ask for it often. */
const settingsCache = new WeakMap<SecurityConfiguration, RuntimeRoleSettings>();

/** The configuration's runtime-role settings; JSON that is not an object enables nothing (the local EMR accepts only JSON). */
export function settingsOf(config: SecurityConfiguration): RuntimeRoleSettings {
  let settings = settingsCache.get(config);
  if (!settings) {
    const read = runtimeRoleSettings(config.json);
    settings = typeof read === 'string' ? { enabled: false, propagateSourceIdentity: false } : read;
    settingsCache.set(config, settings);
  }
  return settings;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** The ExternalId runtime-role sessions of clusters with `config` carry, or undefined if it does not enable runtime roles. */
export function externalIdFor(config: SecurityConfiguration, account: string): string | undefined {
  const settings = settingsOf(config);
  if (!settings.enabled) return undefined;
  if (settings.externalId) return settings.externalId;
  // A configuration made again (deleted, then created) is another one: its creation time is part of it.
  return base32(createHash('sha256').update(`${account}:${config.name}:${config.created}`).digest()).slice(0, 48);
}

/**
 * The security configuration's JSON as DescribeSecurityConfiguration returns it: with the ExternalId EMR generated
 * in ApplicationScopedIAMRoleConfiguration, where it enables runtime roles; otherwise as written.
 */
export function withExternalId(config: SecurityConfiguration, account: string): string {
  const externalId = externalIdFor(config, account);
  if (externalId === undefined) return config.json;
  const parsed = JSON.parse(config.json) as { AuthorizationConfiguration: { IAMConfiguration: IamConfiguration & Record<string, unknown> } };
  const iam = parsed.AuthorizationConfiguration.IAMConfiguration;
  iam.ApplicationScopedIAMRoleConfiguration = { ...iam.ApplicationScopedIAMRoleConfiguration, ExternalId: externalId };
  return JSON.stringify(parsed);
}
