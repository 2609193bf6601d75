/**
 * `npm run check-config -- [--config FILE] [--json]`: what packaging would deploy for a configuration, without
 * packaging. Loads the file with the gateway's loader (the same errors as Lambda would give, and the policy
 * lint's errors, exit 2; its warnings are printed on stderr), applies
 * the packaging rules (e.g. a non-empty runtime-role catalogue, exit 1), and prints the region, the cluster
 * ARNs and runtime roles the IAM policies will name, and the EventBridge resources of the schedules and triggers.
 */
import { loadConfigFile } from '../src/config-file/load';
import { formatConfigFinding } from '../src/config/validate';
import { CONFIG_IN_ZIP, packageParams } from './cloudformation';
import { exitCodeFor } from './errors';
import { DEFAULT_CONFIG } from './package';

export function main(argv: readonly string[] = process.argv.slice(2)): number {
  let file = DEFAULT_CONFIG;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config' && argv[i + 1]) file = argv[++i]!;
    else if (argv[i] === '--json') json = true;
    else {
      console.error(`unknown argument ${argv[i]}\nusage: npm run check-config -- [--config FILE] [--json]`);
      return 2;
    }
  }
  try {
    const { config, findings } = loadConfigFile(file);
    for (const warning of findings) console.error(formatConfigFinding(warning));
    const params = packageParams(config, CONFIG_IN_ZIP);
    if (json) {
      console.log(JSON.stringify(params, null, 2));
      return 0;
    }
    console.log(`${config.file}: valid`);
    console.log(`region        ${params.region} (account ${params.account}, partition ${params.partition})`);
    console.log(`clusters      ${params.clusterArns.join('\n              ')}`);
    console.log(`runtime roles ${params.runtimeRoles.join('\n              ')}`);
    const resources = Object.entries(params.triggerResources.Resources).filter(([, r]) => r.Type !== 'AWS::Lambda::Permission');
    console.log(`eventbridge   ${resources.length ? resources.map(([id, r]) => `${id} (${r.Type})`).join('\n              ') : 'no schedules or triggers'}`);
    return 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

if (require.main === module) process.exitCode = main();
