// `npm test` runs every project's tests through this list.
module.exports = {
  projects: ['libs/pki', 'libs/proto', 'apps/agent', 'apps/server', 'apps/cli'].map(
    (p) => `<rootDir>/${p}/jest.config.js`,
  ),
};
