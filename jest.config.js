/**
 * Two projects, both run by `npm test`: `unit` (no network beyond loopback
 * servers the tests start themselves) and `integration` (a real Kafka broker:
 * the integration project's global setup starts one when any of its tests is
 * selected; see test/setup/). `npx jest --selectProjects unit` runs only the
 * first. Code runs from the TypeScript sources (ts-jest), rule worker threads
 * too (src/pipeline/worker-script.ts); spawned CLIs run the build that
 * `npm test` makes first.
 * @type {import('jest').Config}
 */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

const INTEGRATION = ['<rootDir>/test/integration/', '<rootDir>/test/chaos/'];

module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...INTEGRATION, '<rootDir>/test/chaos/pending/'],
    },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test/integration', '<rootDir>/test/chaos'].filter((r) => require('fs').existsSync(r.replace('<rootDir>', __dirname))),
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/chaos/pending/'],
      // One Kafka broker per run, only when integration tests are selected (test/setup/).
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
