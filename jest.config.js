/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Chaos scenarios that fail until a known defect is fixed (see the file's header).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/chaos/pending/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // One Kafka broker per run, only when integration tests are selected (test/setup/).
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
};
