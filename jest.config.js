/**
 * Jest projects: unit, property (fast-check, incl. the IAM oracle), integration (dynalite, the real ASL),
 * CLI (child processes), e2e (the local stack over loopback, the AWS CLI). middy is ESM-only: its files go through ts-jest too (allowJs), everything else in
 * node_modules is left alone.
 */
// The AWS SDK's NodeVersionSupportWarning (Node < 22) is not news in every test run: silenced, the SDK's documented
// way, for jest's workers and the processes the tests start with the inherited environment (see README).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const transform = { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true } }] };
const common = {
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'property', testMatch: ['<rootDir>/test/property/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'cli', testMatch: ['<rootDir>/test/cli/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    { ...common, displayName: 'package', testMatch: ['<rootDir>/test/package/**/*.test.ts'] },
  ],
};
