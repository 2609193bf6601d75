/** The AWS CLI in e2e tests: Debian's /usr/bin/aws, with only the environment given (no profile, no instance metadata). */
export const AWS_CLI = '/usr/bin/aws';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The environment `aws` runs with: these credentials (if any), us-east-1, no config files, no pager. */
export function awsCliEnv(keys?: AwsKeys): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    ...(keys ? { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' } : {}),
    ...(keys?.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
