// `npm test` runs every project's tests through this list. A throwaway PostgreSQL cluster is
// started for the run unless TEST_DATABASE_URL names one (see tools/test/postgres.js).
module.exports = {
  globalSetup: '<rootDir>/tools/test/postgres.js',
  globalTeardown: '<rootDir>/tools/test/postgres-teardown.js',
  reporters: ['default', '<rootDir>/tools/test/progress-reporter.js'],
  projects: ['libs/pki', 'libs/proto', 'libs/policy', 'libs/targets', 'apps/agent', 'apps/server', 'apps/cli'].map((p) => `<rootDir>/${p}/jest.config.js`),
};
